package io.jembed.reference;

import static io.jembed.reference.TensorAssertions.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.nn.functional.F;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The weight gradient of the lookup against libtorch 2.10 on hundreds of random cases:
 * {@code F.embeddingDenseBackward} against {@code torch::embedding_dense_backward}, {@code F.embeddingSparseBackward}
 * against {@code torch::embedding_sparse_backward}, and the module path ({@code Embedding.forward} then
 * {@code out.backward(upstream)}, twice) against libtorch's autograd ({@code torch::embedding} on a weight that
 * requires grad, {@code out.backward(upstream)}, twice, {@code w.grad()}).
 *
 * <p>Cases vary the table (V in 1..300, H in {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64}, float32 or float64), the
 * indices (int32 or int64; rank 0 to 3 with empty shapes; uniform, or a few distinct rows repeated many times, always
 * with the first and last rows), padding_idx (none, positive, negative: jembed normalises it, libtorch's operators
 * take it normalised) and scale_grad_by_freq. Upstream gradients span seven decades, with signed zeros.
 *
 * <p>Tolerances, and why:
 * <ul>
 *   <li>Dense, without scale_grad_by_freq: bit-identical. PyTorch's CPU kernel adds the upstream rows into a zeroed
 *       gradient in input order ({@code add_stub} with alpha 1, where a fused multiply-add by 1 is an exact add);
 *       jembed does the same additions in the same order.</li>
 *   <li>Dense, with scale_grad_by_freq: bit-identical as well, on this build (measured: no element of any case
 *       differs). PyTorch computes {@code scale = 1.0 / count} in double, casts it to the gradient's type as
 *       {@code add_stub}'s alpha and accumulates {@code acc + alpha * x} with one rounding (vectorised
 *       {@code fmadd}, and a scalar tail that the compiler contracts to an FMA as well); jembed uses {@code fma} in
 *       every kernel variant and {@code Math.fma} in the Java backend.</li>
 *   <li>Sparse: indices, values and shape bit-identical: the values are copies of the upstream rows.</li>
 *   <li>Module path, two backward passes: PyTorch computes each pass's gradient from zero and then adds it to
 *       {@code w.grad} ({@code AccumulateGrad}: {@code grad += new_grad}); jembed accumulates every pass directly
 *       into the gradient buffer in input order. For a row looked up more than once in the second pass the two
 *       summation orders differ: {@code (g1 + a) + b} against {@code g1 + (a + b)}. The comparison is therefore
 *       bit-exact after the first pass, and after the second within the classical bound of a reordered sum,
 *       {@code |difference| <= 2 n u sum|terms|} (n the number of terms of that element, u the unit roundoff). See
 *       {@link #secondBackwardOnRowsWithoutRepeatsIsBitIdenticalToAutograd} and
 *       {@link #secondBackwardSumsInAnotherOrderThanAutograd} for the pinned evidence.</li>
 *   <li>Sparse module path: libtorch's {@code grad += new_grad} on two uncoalesced sparse tensors is
 *       {@code add_out_sparse_contiguous}, a merge of the two entry lists (equal heads are summed into one entry), not
 *       a concatenation; jembed concatenates. The tensors are equal (same dense value) but their raw layout differs,
 *       so the accumulated sparse gradient is compared through {@code toDense()} (bit-exact here, the merged sums
 *       being the same additions) and the first pass's raw layout bit for bit.</li>
 * </ul>
 * The base seed is fixed; {@code -Djembed.test.seed=N} replaces it and {@code -Djembed.test.cases=N} changes the
 * number of cases. Every failure names the seed and the case.
 */
class EmbeddingBackwardMatchesLibtorchTest {
    private static final long FIXED_SEED = 0xB4C_3A2DL;
    private static final int CASES = 300;
    private static final long[] DIMS = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64};
    /** Index shapes that every run covers, beside the random ones: 0-d, and empty ones of every rank. */
    private static final long[][] FIXED_SHAPES = {{}, {0}, {2, 0}, {3, 0, 2}, {0, 4}, {1}, {1, 1, 1}};

    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, LibtorchTraining.load());
    }

    @Test
    void gradientsMatchLibtorchOnRandomCases() {
        long base = Reproduce.baseSeed(FIXED_SEED);
        int cases = Reproduce.cases(CASES);
        int[] coverage = new int[10];
        long[] scaledElements = new long[1];
        for (int c = 0; c < cases; c++) {
            long caseSeed = Reproduce.caseSeed(base, c);
            SplittableRandom random = new SplittableRandom(caseSeed);
            long[] indexShape = c < FIXED_SHAPES.length ? FIXED_SHAPES[c] : RandomIndices.shape(random);
            Case k = Case.draw(random, indexShape);
            String header = Reproduce.header(base, c, caseSeed) + k;
            checkDense(k, header);
            checkSparse(k, header);
            checkModule(k, header);
            coverage[0] += k.indexShape.length == 0 ? 1 : 0;
            coverage[1] += k.indices.length == 0 ? 1 : 0;
            coverage[2] += k.indexShape.length == 3 ? 1 : 0;
            coverage[3] += k.gradType == DType.FLOAT64 ? 1 : 0;
            coverage[4] += k.indexType == DType.INT32 ? 1 : 0;
            coverage[5] += k.paddingIdx != null && k.paddingIdx >= 0 && contains(k.indices, k.paddingIdx) ? 1 : 0;
            coverage[6] += k.paddingIdx != null && k.paddingIdx < 0 && contains(k.indices, k.paddingIdx + k.rows)
                    ? 1 : 0;
            coverage[7] += k.scaleGradByFreq && maxRepeat(k.indices) >= 8 ? 1 : 0;
            coverage[8] += k.dim == 1 || k.dim == 7 || k.dim == 33 ? 1 : 0;
            coverage[9] += k.scaleGradByFreq && k.gradType == DType.FLOAT32 && k.dim % 8 != 0 ? 1 : 0;
            scaledElements[0] += k.scaleGradByFreq ? (long) k.indices.length * k.dim : 0;
        }
        System.out.println("EmbeddingBackwardMatchesLibtorchTest: " + cases + " cases (seed " + base + "), coverage "
                + Arrays.toString(coverage) + ", scale_grad_by_freq elements accumulated " + scaledElements[0]);
        if (cases >= CASES) {
            // The random cases must actually reach every kind of case they claim to cover.
            for (int i = 0; i < coverage.length; i++) {
                assertTrue(coverage[i] >= 5, "coverage " + i + " too low: " + Arrays.toString(coverage)
                        + " (-D" + Reproduce.SEED_PROPERTY + "=" + base + ")");
            }
        }
    }

    /** One random case: a table size, indices, an upstream gradient and the backward options. */
    private static final class Case {
        long rows;
        long dim;
        DType gradType;
        DType indexType;
        long[] indexShape;
        long[] indices;
        Long paddingIdx;
        boolean scaleGradByFreq;
        double[] upstream;
        double[] upstream2;
        double[] weight;

        static Case draw(SplittableRandom random, long[] indexShape) {
            Case k = new Case();
            k.rows = random.nextInt(6) == 0 ? 1 + random.nextInt(3) : 1 + random.nextInt(300);
            k.dim = DIMS[random.nextInt(DIMS.length)];
            k.gradType = random.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
            k.indexType = random.nextBoolean() ? DType.INT64 : DType.INT32;
            k.indexShape = indexShape;
            k.indices = RandomIndices.values(random, k.rows, Math.toIntExact(RandomIndices.numel(indexShape)));
            switch (random.nextInt(3)) {
                case 0: k.paddingIdx = null; break;
                case 1: k.paddingIdx = (long) random.nextInt((int) k.rows); break;
                default: k.paddingIdx = -1L - random.nextInt((int) k.rows); break;
            }
            k.scaleGradByFreq = random.nextInt(3) == 0;
            int n = Math.toIntExact(k.indices.length * k.dim);
            k.upstream = randomValues(random, n, k.gradType);
            k.upstream2 = randomValues(random, n, k.gradType);
            k.weight = randomValues(random, Math.toIntExact(k.rows * k.dim), k.gradType);
            return k;
        }

        Tensor upstream() {
            return tensor(gradType, upstream, gradShape(indexShape));
        }

        Tensor upstream2() {
            return tensor(gradType, upstream2, gradShape(indexShape));
        }

        Tensor weight() {
            return tensor(gradType, weight, rows, dim);
        }

        Tensor input() {
            return input(indexShape);
        }

        /**
         * libtorch's embedding_sparse_backward fails on a 0-d input with a padding_idx ({@code indices.index(
         * {indices != padding_idx})} on a 0-d tensor: "too many indices for tensor of dimension 0"), so the sparse
         * comparisons give libtorch such an index as shape (1,), and its upstream gradient as (1, H): the same entry.
         * {@link #zeroDimensionalIndexWithPaddingFailsInLibtorchsSparseBackward} pins libtorch's failure.
         */
        boolean sparseNeedsRank1() {
            return indexShape.length == 0 && normalisedPaddingIdx() != -1;
        }

        Tensor sparseInput() {
            return input(sparseNeedsRank1() ? new long[] {1} : indexShape);
        }

        Tensor sparseUpstream(double[] values) {
            return tensor(gradType, values, gradShape(sparseNeedsRank1() ? new long[] {1} : indexShape));
        }

        long[] gradShape(long[] shape) {
            long[] grad = Arrays.copyOf(shape, shape.length + 1);
            grad[shape.length] = dim;
            return grad;
        }

        Tensor input(long[] shape) {
            Tensor t = Torch.empty(indexType, shape);
            if (indexType == DType.INT64) {
                return t.copyFrom(indices);
            }
            int[] narrow = new int[indices.length];
            for (int i = 0; i < narrow.length; i++) {
                narrow[i] = Math.toIntExact(indices[i]);
            }
            return t.copyFrom(narrow);
        }

        /** padding_idx as F.embedding hands it to libtorch's operators: normalised, -1 for none. */
        long normalisedPaddingIdx() {
            return paddingIdx == null ? -1 : paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
        }

        @Override
        public String toString() {
            String shown = indices.length <= 40 ? Arrays.toString(indices) : indices.length + " indices";
            return "grad " + gradType + " (V " + rows + ", H " + dim + "), input " + indexType + " shape "
                    + Arrays.toString(indexShape) + " " + shown + ", padding_idx " + paddingIdx
                    + ", scale_grad_by_freq " + scaleGradByFreq;
        }
    }

    private static void checkDense(Case k, String header) {
        try (Tensor input = k.input();
             Tensor upstream = k.upstream();
             Tensor expected = LibtorchTraining.embeddingDenseBackward(upstream, input, k.rows,
                     k.normalisedPaddingIdx(), k.scaleGradByFreq);
             Tensor actual = F.embeddingDenseBackward(upstream, input, k.rows, k.paddingIdx, k.scaleGradByFreq)) {
            assertArrayEquals(new long[] {k.rows, k.dim}, expected.shape(), header + ": libtorch's own shape");
            assertBitIdentical(expected, actual, what(header, "F.embeddingDenseBackward vs "
                    + "torch::embedding_dense_backward"));
        }
    }

    private static void checkSparse(Case k, String header) {
        try (Tensor input = k.input();
             Tensor upstream = k.upstream();
             Tensor theirInput = k.sparseInput();
             Tensor theirUpstream = k.sparseUpstream(k.upstream)) {
            if (k.scaleGradByFreq) {
                RuntimeException theirs = assertThrows(RuntimeException.class,
                        () -> LibtorchTraining.embeddingSparseBackward(theirUpstream, theirInput, k.rows,
                                k.normalisedPaddingIdx(), true).close(), header);
                UnsupportedOperationException ours = assertThrows(UnsupportedOperationException.class,
                        () -> F.embeddingSparseBackward(upstream, input, k.rows, k.paddingIdx, true), header);
                assertTrue(theirs.getMessage().contains(ours.getMessage()), () -> header + ": jembed's message \""
                        + ours.getMessage() + "\" is not libtorch's \"" + theirs.getMessage() + "\"");
                return;
            }
            try (LibtorchTraining.SparseParts expected = LibtorchTraining.embeddingSparseBackward(theirUpstream,
                         theirInput, k.rows, k.normalisedPaddingIdx(), false);
                 SparseTensor actual = F.embeddingSparseBackward(upstream, input, k.rows, k.paddingIdx, false)) {
                assertSparseRawEquals(expected, actual, header + ": F.embeddingSparseBackward vs "
                        + "torch::embedding_sparse_backward");
                assertFalse(actual.isCoalesced(), header + ": jembed's sparse gradient claims to be coalesced");
            }
        }
    }

    /**
     * {@code Embedding} forward and {@code out.backward(upstream)} twice, against libtorch's autograd doing the same;
     * bit-exact after the first pass, then within the reordered-sum bound (dense) or through {@code toDense()}
     * (sparse; see the class comment).
     */
    private static void checkModule(Case k, String header) {
        for (boolean sparse : new boolean[] {false, true}) {
            if (sparse && k.scaleGradByFreq) {
                continue; // pinned by sparseWithScaleGradByFreqFailsAtBackwardLikeLibtorch
            }
            String api = (sparse ? "sparse" : "dense") + " Embedding.forward + backward";
            EmbeddingOptions options = new EmbeddingOptions(k.rows, k.dim).sparse(sparse)
                    .scaleGradByFreq(k.scaleGradByFreq);
            if (k.paddingIdx != null) {
                options.paddingIdx(k.paddingIdx);
            }
            try (Tensor weight = k.weight();
                 Tensor input = k.input();
                 Tensor upstream = k.upstream();
                 Tensor upstream2 = k.upstream2();
                 Tensor theirInput = sparse ? k.sparseInput() : k.input();
                 Tensor theirUpstream = sparse ? k.sparseUpstream(k.upstream) : k.upstream();
                 Tensor theirUpstream2 = sparse ? k.sparseUpstream(k.upstream2) : k.upstream2();
                 Embedding module = new Embedding(options.weight(weight))) {
                try (Tensor out = module.forward(input)) {
                    out.backward(upstream);
                }
                try (LibtorchTraining.Grad once = LibtorchTraining.autogradGrad(weight, theirInput,
                        k.normalisedPaddingIdx(), k.scaleGradByFreq, sparse, List.of(theirUpstream))) {
                    if (sparse) {
                        assertNotNull(once.sparse, header + ": libtorch's gradient is not sparse");
                        assertSparseRawEquals(once.sparse, weight.sparseGrad(), header + ": " + api
                                + " once vs libtorch autograd");
                    } else {
                        assertNotNull(once.dense, header + ": libtorch's gradient is not dense");
                        assertBitIdentical(once.dense, weight.grad(), what(header, api + " once vs libtorch "
                                + "autograd"));
                    }
                }
                try (Tensor out = module.forward(input)) {
                    out.backward(upstream2);
                }
                try (LibtorchTraining.Grad twice = LibtorchTraining.autogradGrad(weight, theirInput,
                        k.normalisedPaddingIdx(), k.scaleGradByFreq, sparse, List.of(theirUpstream,
                                theirUpstream2))) {
                    if (sparse) {
                        assertNotNull(twice.sparse, header + ": libtorch's gradient is not sparse");
                        try (Tensor expected = sparseToDense(twice.sparse);
                             Tensor actual = weight.sparseGrad().toDense()) {
                            assertWithinReorderedSumBound(k, expected, actual, header + ": " + api
                                    + " twice, toDense(), vs libtorch autograd's");
                        }
                    } else {
                        assertWithinReorderedSumBound(k, twice.dense, weight.grad(), header + ": " + api
                                + " twice vs libtorch autograd");
                    }
                }
            }
        }
    }

    // ---- fixed cases: the evidence behind the tolerances, and the errors ------------------------------------

    /**
     * When no row repeats within the second pass, both orders are the same additions ({@code g1 + a}), so the
     * accumulated gradient is bit-identical to autograd's.
     */
    @Test
    void secondBackwardOnRowsWithoutRepeatsIsBitIdenticalToAutograd() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 5, 3);
             Tensor input = Torch.tensor(new long[] {4, 0, 2});
             Tensor upstream = Torch.tensor(new float[] {0.1f, 0.2f, 0.3f, 1e7f, -3f, 0.7f, 1f / 3, 2f / 3, -1e-5f},
                     3, 3);
             Embedding module = new Embedding(new EmbeddingOptions(5, 3).weight(weight))) {
            for (int pass = 0; pass < 2; pass++) {
                try (Tensor out = module.forward(input)) {
                    out.backward(upstream);
                }
            }
            try (LibtorchTraining.Grad expected = LibtorchTraining.autogradGrad(weight, input, -1, false, false,
                    List.of(upstream, upstream))) {
                assertBitIdentical(expected.dense, weight.grad(), () -> "two passes over distinct rows");
            }
        }
    }

    /**
     * The documented difference: one row looked up twice in each pass, with upstream values chosen so that
     * {@code (g1 + a) + b} and {@code g1 + (a + b)} round differently. libtorch's autograd gives the latter (each pass
     * from zero, then {@code grad += new_grad}); jembed's in-place accumulation the former. Both are computed here in
     * plain float arithmetic and compared with each side.
     */
    @Test
    void secondBackwardSumsInAnotherOrderThanAutograd() {
        float a = 1f;
        float b = 0x1p-24f; // half an ulp of 1: 1 + b rounds back to 1 (ties to even)
        float g1 = a + b; // the first pass's gradient: 1
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 2, 1);
             Tensor input = Torch.tensor(new long[] {1, 1});
             Tensor upstream = Torch.tensor(new float[] {a, b}, 2, 1);
             Tensor upstream2 = Torch.tensor(new float[] {b, b}, 2, 1);
             Embedding module = new Embedding(new EmbeddingOptions(2, 1).weight(weight))) {
            try (Tensor out = module.forward(input)) {
                out.backward(upstream);
            }
            try (Tensor out = module.forward(input)) {
                out.backward(upstream2);
            }
            float inPlace = (g1 + b) + b; // jembed: 1 + 2^-24 -> 1, then again -> 1
            float fresh = g1 + (b + b); // PyTorch: 1 + 2^-23 -> 1 + 2^-23
            assertEquals(1f, inPlace);
            assertEquals(1f + 0x1p-23f, fresh);
            assertEquals(inPlace, weight.grad().getDouble(1, 0), "jembed accumulates in place, in input order");
            try (LibtorchTraining.Grad expected = LibtorchTraining.autogradGrad(weight, input, -1, false, false,
                    List.of(upstream, upstream2))) {
                assertEquals(fresh, expected.dense.getDouble(1, 0), "libtorch: grad += (a fresh second gradient)");
            }
        }
    }

    /**
     * libtorch accumulates two uncoalesced sparse gradients by merging their entry lists (add_out_sparse_contiguous),
     * which sums equal heads into one entry; jembed concatenates. Same tensor, different raw layout: pinned here so
     * that a change on either side is noticed.
     */
    @Test
    void sparseAccumulationIsAMergeInLibtorchAndAConcatenationInJembed() {
        try (Tensor weight = Torch.zeros(DType.FLOAT64, 10, 1);
             Tensor input = Torch.tensor(new long[] {7, 1, 3});
             Tensor upstream = Torch.tensor(new double[] {1, 2, 3}, 3, 1);
             Embedding module = new Embedding(new EmbeddingOptions(10, 1).sparse(true).weight(weight))) {
            for (int pass = 0; pass < 2; pass++) {
                try (Tensor out = module.forward(input)) {
                    out.backward(upstream);
                }
            }
            assertArrayEquals(new long[] {7, 1, 3, 7, 1, 3}, weight.sparseGrad().indices().toLongArray());
            try (LibtorchTraining.Grad expected = LibtorchTraining.autogradGrad(weight, input, -1, false, true,
                    List.of(upstream, upstream));
                 Tensor expectedDense = sparseToDense(expected.sparse);
                 Tensor actualDense = weight.sparseGrad().toDense()) {
                long[] theirs = expected.sparse.indices.toLongArray();
                System.out.println("libtorch's accumulated sparse indices " + Arrays.toString(theirs) + " values "
                        + Arrays.toString(expected.sparse.values.toDoubleArray()));
                assertFalse(Arrays.equals(new long[] {7, 1, 3, 7, 1, 3}, theirs),
                        "libtorch now concatenates: jembed's layout could be compared bit for bit");
                assertBitIdentical(expectedDense, actualDense, () -> "the same tensor");
            }
        }
    }

    @Test
    void sparseWithScaleGradByFreqFailsAtBackwardLikeLibtorch() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 4, 2);
             Tensor input = Torch.tensor(new long[] {1, 1, 2});
             Tensor upstream = Torch.ones(DType.FLOAT32, 3, 2);
             Embedding module = new Embedding(new EmbeddingOptions(4, 2).sparse(true).scaleGradByFreq(true)
                     .weight(weight));
             Tensor out = module.forward(input)) {
            RuntimeException theirs = assertThrows(RuntimeException.class,
                    () -> LibtorchTraining.autogradGrad(weight, input, -1, true, true, List.of(upstream)).close());
            UnsupportedOperationException ours = assertThrows(UnsupportedOperationException.class,
                    () -> out.backward(upstream));
            assertTrue(theirs.getMessage().contains(ours.getMessage()), () -> "jembed's message \""
                    + ours.getMessage() + "\" is not libtorch's \"" + theirs.getMessage() + "\"");
            assertNull(weight.sparseGrad(), "a failed backward leaves no gradient");
        }
    }

    /**
     * A divergence in jembed's favour: libtorch's embedding_sparse_backward fails on a 0-d index with a padding_idx
     * (it masks the 0-d index tensor with a 0-d boolean), so PyTorch's sparse backward of such a lookup raises;
     * jembed returns the one-entry (or, for the padding row, empty) gradient that the same index as shape (1,) gives
     * in libtorch. Pinned so that a libtorch fix is noticed.
     */
    @Test
    void zeroDimensionalIndexWithPaddingFailsInLibtorchsSparseBackward() {
        for (long index : new long[] {1, 2}) {
            try (Tensor input = Torch.scalarTensor(index);
                 Tensor upstream = Torch.tensor(new double[] {1, 2, 3}, 3);
                 Tensor rank1 = Torch.tensor(new long[] {index}, 1);
                 Tensor upstream1 = Torch.tensor(new double[] {1, 2, 3}, 1, 3);
                 LibtorchTraining.SparseParts expected = LibtorchTraining.embeddingSparseBackward(upstream1, rank1, 4,
                         2, false);
                 SparseTensor actual = F.embeddingSparseBackward(upstream, input, 4, 2L, false)) {
                RuntimeException theirs = assertThrows(RuntimeException.class,
                        () -> LibtorchTraining.embeddingSparseBackward(upstream, input, 4, 2, false).close());
                assertTrue(theirs.getMessage().contains("too many indices for tensor of dimension 0"),
                        theirs.getMessage());
                assertSparseRawEquals(expected, actual, "0-d index " + index + ", padding_idx 2");
                assertEquals(index == 2 ? 0 : 1, actual.nnz());
            }
        }
    }

    /** Every index is padding: libtorch returns an empty (1, 0) / (0, H) sparse gradient, and so does jembed. */
    @Test
    void allPaddingGivesAnEmptySparseGradientOfLibtorchsShape() {
        for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
            try (Tensor input = indexType == DType.INT64 ? Torch.tensor(new long[] {2, 2, 2}, 3)
                         : Torch.tensor(new int[] {2, 2, 2}, 3);
                 Tensor upstream = Torch.ones(DType.FLOAT64, 3, 5);
                 LibtorchTraining.SparseParts expected = LibtorchTraining.embeddingSparseBackward(upstream, input, 4,
                         2, false);
                 SparseTensor actual = F.embeddingSparseBackward(upstream, input, 4, 2L, false)) {
                assertSparseRawEquals(expected, actual, "all padding, " + indexType);
                assertEquals(0, actual.nnz());
            }
        }
    }

    // ---- comparisons ---------------------------------------------------------------------------------------

    private static void assertSparseRawEquals(LibtorchTraining.SparseParts expected, SparseTensor actual,
                                              String what) {
        assertNotNull(actual, what + ": no sparse gradient");
        assertArrayEquals(expected.shape, actual.shape(), what + ": shape");
        assertBitIdentical(expected.indices, actual.indices(), () -> what + ": _indices()");
        assertBitIdentical(expected.values, actual.values(), () -> what + ": _values()");
    }

    /** {@code to_dense()} of libtorch's raw parts, by plain in-order additions (exact for the cases used here). */
    private static Tensor sparseToDense(LibtorchTraining.SparseParts sparse) {
        try (SparseTensor copy = new SparseTensor(sparse.indices.clone(), sparse.values.clone(), sparse.shape)) {
            return copy.toDense();
        }
    }

    /**
     * Two passes' dense gradient: bit-identical, or within {@code 2 n u sum|terms|} per element, where the terms are
     * every (scaled) upstream value added into that element over both passes and n their count. That bounds the
     * difference between any two summation orders of the same terms (each order is within {@code (n-1) u sum|terms|}
     * of the exact sum, to first order).
     */
    private static void assertWithinReorderedSumBound(Case k, Tensor expected, Tensor actual, String what) {
        TensorAssertions.assertSameLayout(expected, actual, () -> what);
        int h = Math.toIntExact(k.dim);
        double[] absSum = new double[Math.toIntExact(k.rows * k.dim)];
        int[] terms = new int[Math.toIntExact(k.rows)];
        long padding = k.normalisedPaddingIdx();
        long[] counts = new long[terms.length];
        for (long r : k.indices) {
            counts[(int) r]++;
        }
        for (double[] upstream : new double[][] {k.upstream, k.upstream2}) {
            for (int i = 0; i < k.indices.length; i++) {
                int r = (int) k.indices[i];
                if (r == padding) {
                    continue;
                }
                terms[r]++;
                double scale = k.scaleGradByFreq ? 1.0 / counts[r] : 1.0;
                for (int j = 0; j < h; j++) {
                    absSum[r * h + j] += Math.abs(upstream[i * h + j]) * scale;
                }
            }
        }
        double u = k.gradType == DType.FLOAT32 ? 0x1p-24 : 0x1p-53;
        double[] want = expected.toDoubleArray();
        double[] got = actual.toDoubleArray();
        for (int e = 0; e < want.length; e++) {
            double bound = 2.0 * terms[e / h] * u * absSum[e] * 1.0000001;
            double difference = Math.abs(want[e] - got[e]);
            if (!(difference <= bound) && Double.doubleToRawLongBits(want[e]) != Double.doubleToRawLongBits(got[e])) {
                fail(what + ": element " + e + " (row " + e / h + ") expected " + want[e] + " but got " + got[e]
                        + ": |difference| " + difference + " > 2 n u sum|terms| = " + bound);
            }
        }
    }

    private static Supplier<String> what(String header, String api) {
        return () -> header + ": " + api;
    }

    // ---- random data ---------------------------------------------------------------------------------------

    /** Values over seven decades, both signs, with signed zeros now and then; float32 values are floats. */
    private static double[] randomValues(SplittableRandom random, int n, DType dtype) {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            double v;
            if (random.nextInt(60) == 0) {
                v = random.nextBoolean() ? 0.0 : -0.0;
            } else {
                v = (random.nextDouble() * 2 - 1) * Math.pow(10, random.nextInt(7) - 3);
            }
            values[i] = dtype == DType.FLOAT32 ? (float) v : v;
        }
        return values;
    }

    private static Tensor tensor(DType dtype, double[] values, long... shape) {
        Tensor t = Torch.empty(dtype, shape);
        if (dtype == DType.FLOAT64) {
            return t.copyFrom(values);
        }
        float[] narrow = new float[values.length];
        for (int i = 0; i < narrow.length; i++) {
            narrow[i] = (float) values[i];
        }
        return t.copyFrom(narrow);
    }

    private static boolean contains(long[] values, long value) {
        for (long v : values) {
            if (v == value) {
                return true;
            }
        }
        return false;
    }

    private static int maxRepeat(long[] indices) {
        long[] sorted = indices.clone();
        Arrays.sort(sorted);
        int best = sorted.length == 0 ? 0 : 1;
        int run = 1;
        for (int i = 1; i < sorted.length; i++) {
            run = sorted[i] == sorted[i - 1] ? run + 1 : 1;
            best = Math.max(best, run);
        }
        return best;
    }
}
