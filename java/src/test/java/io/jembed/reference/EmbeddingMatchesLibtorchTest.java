package io.jembed.reference;

import static io.jembed.reference.TensorAssertions.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingFromPretrainedOptions;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.nn.functional.F;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lookup ({@code F.embedding}, {@code Embedding.forward}, {@code Embedding.fromPretrained(...).forward}) against
 * libtorch's {@code torch::embedding} on hundreds of random cases: the output must have libtorch's shape and dtype
 * and its exact bits (a lookup copies rows; no arithmetic is involved, so nothing less than bit-identity is right).
 *
 * <p>Cases vary the table (V in 1..300, H in {1, 2, 3, 7, 8, 9, 16, 31, 33, 64, 100}, float32 or float64, with
 * NaNs carrying payloads, signed zeros, infinities and subnormals among the weights), the indices (int32 or int64;
 * rank 0 to 3, empty shapes such as (0,), (2, 0), (3, 0, 2); duplicates; the first and last rows), padding_idx (none,
 * positive, negative: the forward ignores it, in libtorch and in jembed) and the gradient-only flags
 * scale_grad_by_freq and sparse. The base seed is fixed; {@code -Djembed.test.seed=N} replaces it and
 * {@code -Djembed.test.cases=N} changes the number of cases.
 */
class EmbeddingMatchesLibtorchTest {
    private static final long FIXED_SEED = 0x5EED_E3BEDL;
    private static final int CASES = 600;
    private static final long[] DIMS = {1, 2, 3, 7, 8, 9, 16, 31, 33, 64, 100};
    /** Index shapes that every run covers, beside the random ones: 0-d, and empty ones of every rank. */
    private static final long[][] FIXED_SHAPES = {{}, {0}, {2, 0}, {3, 0, 2}, {0, 4}, {1}, {1, 1, 1}};

    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, Libtorch.threads());
    }

    @Test
    void lookupsAreBitIdenticalToLibtorchOnRandomCases() {
        long base = Reproduce.baseSeed(FIXED_SEED);
        int cases = Reproduce.cases(CASES);
        int[] coverage = new int[8];
        for (int c = 0; c < cases; c++) {
            long caseSeed = Reproduce.caseSeed(base, c);
            SplittableRandom random = new SplittableRandom(caseSeed);
            long[] indexShape = c < FIXED_SHAPES.length ? FIXED_SHAPES[c] : RandomIndices.shape(random);
            Case k = Case.draw(random, indexShape);
            String header = Reproduce.header(base, c, caseSeed) + k;
            checkCase(k, header);
            coverage[0] += k.indexShape.length == 0 ? 1 : 0;
            coverage[1] += RandomIndices.numel(k.indexShape) == 0 ? 1 : 0;
            coverage[2] += k.indexShape.length == 3 ? 1 : 0;
            coverage[3] += k.weightType == DType.FLOAT64 ? 1 : 0;
            coverage[4] += k.indexType == DType.INT32 ? 1 : 0;
            coverage[5] += k.paddingIdx != null && k.paddingIdx < 0 ? 1 : 0;
            coverage[6] += k.paddingIdx != null && k.paddingIdx >= 0 ? 1 : 0;
            coverage[7] += hasDuplicates(k.indices) ? 1 : 0;
        }
        if (cases >= CASES) {
            // The random cases must actually reach every kind of case they claim to cover.
            for (int i = 0; i < coverage.length; i++) {
                assertTrue(coverage[i] >= 5, "coverage " + i + " too low: " + Arrays.toString(coverage)
                        + " (-D" + Reproduce.SEED_PROPERTY + "=" + base + ")");
            }
        }
    }

    /** One random case: a table, indices and the module options. */
    private static final class Case {
        long rows;
        long dim;
        DType weightType;
        DType indexType;
        long[] indexShape;
        long[] indices;
        Long paddingIdx;
        boolean scaleGradByFreq;
        boolean sparse;
        float[] weightF;
        double[] weightD;

        static Case draw(SplittableRandom random, long[] indexShape) {
            Case k = new Case();
            k.rows = random.nextInt(6) == 0 ? 1 + random.nextInt(3) : 1 + random.nextInt(300);
            k.dim = DIMS[random.nextInt(DIMS.length)];
            k.weightType = random.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
            k.indexType = random.nextBoolean() ? DType.INT64 : DType.INT32;
            k.indexShape = indexShape;
            k.indices = RandomIndices.values(random, k.rows, Math.toIntExact(RandomIndices.numel(indexShape)));
            switch (random.nextInt(3)) {
                case 0: k.paddingIdx = null; break;
                case 1: k.paddingIdx = (long) random.nextInt((int) k.rows); break;
                default: k.paddingIdx = -1L - random.nextInt((int) k.rows); break;
            }
            k.scaleGradByFreq = random.nextInt(4) == 0;
            k.sparse = random.nextInt(4) == 0;
            int n = Math.toIntExact(k.rows * k.dim);
            if (k.weightType == DType.FLOAT32) {
                k.weightF = new float[n];
                for (int i = 0; i < n; i++) {
                    k.weightF[i] = randomFloat(random);
                }
            } else {
                k.weightD = new double[n];
                for (int i = 0; i < n; i++) {
                    k.weightD[i] = randomDouble(random);
                }
            }
            return k;
        }

        Tensor weight() {
            Tensor w = Torch.empty(weightType, rows, dim);
            return weightType == DType.FLOAT32 ? w.copyFrom(weightF) : w.copyFrom(weightD);
        }

        Tensor input() {
            Tensor t = Torch.empty(indexType, indexShape);
            if (indexType == DType.INT64) {
                return t.copyFrom(indices);
            }
            int[] narrow = new int[indices.length];
            for (int i = 0; i < narrow.length; i++) {
                narrow[i] = Math.toIntExact(indices[i]);
            }
            return t.copyFrom(narrow);
        }

        /** padding_idx as F.embedding hands it to torch::embedding: normalised, -1 for none. */
        long normalisedPaddingIdx() {
            return paddingIdx == null ? -1 : paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
        }

        @Override
        public String toString() {
            String shown = indices.length <= 40 ? Arrays.toString(indices) : indices.length + " indices";
            return "weight " + weightType + " (" + rows + ", " + dim + "), input " + indexType + " shape "
                    + Arrays.toString(indexShape) + " " + shown + ", padding_idx " + paddingIdx
                    + ", scale_grad_by_freq " + scaleGradByFreq + ", sparse " + sparse;
        }
    }

    private static void checkCase(Case k, String header) {
        try (Tensor weight = k.weight();
             Tensor original = weight.clone();
             Tensor input = k.input();
             Tensor expected = Libtorch.embedding(weight, input, k.normalisedPaddingIdx(), k.scaleGradByFreq,
                     k.sparse)) {
            assertEquals(expectedShapeOf(k), Arrays.toString(expected.shape()), header + ": libtorch's own shape");

            try (Tensor out = F.embedding(input, weight, k.paddingIdx, null, 2.0, k.scaleGradByFreq, k.sparse)) {
                assertBitIdentical(expected, out, what(header, "F.embedding"));
            }
            try (Tensor out = Torch.full(k.weightType, 12345, expected.shape())) {
                F.embedding(input, weight, k.paddingIdx, null, 2.0, out);
                assertBitIdentical(expected, out, what(header, "F.embedding(..., out)"));
            }
            EmbeddingOptions options = new EmbeddingOptions(k.rows, k.dim).weight(weight)
                    .scaleGradByFreq(k.scaleGradByFreq).sparse(k.sparse);
            if (k.paddingIdx != null) {
                options.paddingIdx(k.paddingIdx);
            }
            try (Embedding module = new Embedding(options); Tensor out = module.forward(input)) {
                assertBitIdentical(expected, out, what(header, "new Embedding(options.weight(w)).forward"));
            }
            EmbeddingFromPretrainedOptions pretrained = new EmbeddingFromPretrainedOptions()
                    .scaleGradByFreq(k.scaleGradByFreq).sparse(k.sparse);
            if (k.paddingIdx != null) {
                pretrained.paddingIdx(k.paddingIdx);
            }
            try (Embedding module = Embedding.fromPretrained(weight, pretrained);
                 Tensor out = module.forward(input);
                 Tensor reused = Torch.zeros(k.weightType, expected.shape())) {
                assertBitIdentical(expected, out, what(header, "Embedding.fromPretrained(w).forward"));
                module.forward(input, reused);
                assertBitIdentical(expected, reused, what(header, "Embedding.fromPretrained(w).forward(input, out)"));
            }
            // A lookup reads the table; neither it nor a module built around it (padding_idx included) writes it.
            assertBitIdentical(original, weight, what(header, "the weight after the lookups"));
        }
    }

    private static Supplier<String> what(String header, String api) {
        return () -> header + ": " + api + " vs torch::embedding";
    }

    private static String expectedShapeOf(Case k) {
        long[] shape = Arrays.copyOf(k.indexShape, k.indexShape.length + 1);
        shape[k.indexShape.length] = k.dim;
        return Arrays.toString(shape);
    }

    private static final int[] SPECIAL_FLOAT_BITS = {
        0x7fc12345, // quiet NaN with a payload
        0xffc00001, // negative quiet NaN with a payload
        0x7f800001, // signalling NaN
        0x80000000, // -0.0
        0x7f800000, 0xff800000, // +/-inf
        0x00000001, 0x807fffff, // smallest subnormal, largest negative subnormal
        0x7f7fffff, // largest finite
    };

    private static final long[] SPECIAL_DOUBLE_BITS = {
        0x7ff8_0000_0012_3456L, 0xfff8_0000_0000_0001L, 0x7ff0_0000_0000_0001L, 0x8000_0000_0000_0000L,
        0x7ff0_0000_0000_0000L, 0xfff0_0000_0000_0000L, 0x0000_0000_0000_0001L, 0x800f_ffff_ffff_ffffL,
        0x7fef_ffff_ffff_ffffL,
    };

    private static float randomFloat(SplittableRandom random) {
        if (random.nextInt(50) == 0) {
            return Float.intBitsToFloat(SPECIAL_FLOAT_BITS[random.nextInt(SPECIAL_FLOAT_BITS.length)]);
        }
        return (float) ((random.nextDouble() * 2 - 1) * Math.pow(10, random.nextInt(7) - 3));
    }

    private static double randomDouble(SplittableRandom random) {
        if (random.nextInt(50) == 0) {
            return Double.longBitsToDouble(SPECIAL_DOUBLE_BITS[random.nextInt(SPECIAL_DOUBLE_BITS.length)]);
        }
        return (random.nextDouble() * 2 - 1) * Math.pow(10, random.nextInt(7) - 3);
    }

    private static boolean hasDuplicates(long[] indices) {
        long[] sorted = indices.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                return true;
            }
        }
        return false;
    }

    /** A few fixed cases named for what they pin, beside the random ones. */
    @Test
    void zeroDimensionalIndexGivesOneRowOfShapeH() {
        try (Tensor weight = Torch.tensor(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
             Tensor input = Torch.scalarTensor(2);
             Tensor expected = Libtorch.embedding(weight, input, -1, false, false);
             Tensor out = F.embedding(input, weight)) {
            assertEquals(List.of(2L), TensorAssertions.shapeList(expected), "libtorch's shape for a 0-d index");
            assertBitIdentical(expected, out, () -> "0-d index");
        }
    }

    @Test
    void emptyIndexTensorsGiveEmptyOutputsOfLibtorchsShape() {
        List<long[]> shapes = new ArrayList<>(List.of(new long[] {0}, new long[] {2, 0}, new long[] {3, 0, 2},
                new long[] {0, 0}));
        for (long[] shape : shapes) {
            for (DType indexType : new DType[] {DType.INT64, DType.INT32}) {
                try (Tensor weight = Torch.tensor(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
                     Tensor input = Torch.empty(indexType, shape);
                     Tensor expected = Libtorch.embedding(weight, input, -1, false, false);
                     Tensor out = F.embedding(input, weight)) {
                    assertBitIdentical(expected, out, () -> "empty index shape " + Arrays.toString(shape) + " "
                            + indexType);
                }
            }
        }
    }
}
