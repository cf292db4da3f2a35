package io.jembed.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jembed.DType;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.Backends;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.nn.functional.F;
import io.jembed.optim.AdamOptions;
import io.jembed.optim.Optimizer;
import io.jembed.optim.SGD;
import io.jembed.optim.SGDOptions;
import io.jembed.optim.SparseAdam;

/**
 * Jazzer drives the public API through the JNI boundary with random shapes, dtypes, indices, options and call
 * sequences. The property: every call either returns the Java backend's result or throws one of the documented
 * exceptions ({@link IllegalArgumentException}, {@link IndexOutOfBoundsException}, {@link IllegalStateException},
 * and {@link UnsupportedOperationException} where PyTorch refuses an operation) having changed nothing; the JVM never
 * crashes.
 *
 * <p>In every test run (regression mode) each method replays its committed inputs under
 * {@code java/src/test/resources/io/jembed/fuzz/PublicApiFuzzTestInputs/<method>/}; {@code scripts/fuzz-java}
 * fuzzes them with coverage guidance for as long as asked.
 */
class PublicApiFuzzTest {
    /** float32 renorms agree to 2e-6 relative between backends (vector sums in another order); float64 to 1e-13. */
    private static double renormTolerance(DType dtype) {
        return dtype == DType.FLOAT32 ? 2e-6 : 1e-13;
    }

    /**
     * {@code F.embedding} with any weight (float16 and bfloat16 included), indices, padding_idx, max_norm, norm_type
     * and output.
     */
    @FuzzTest(maxDuration = "60s")
    void functionalEmbeddingGivesTheJavaResultOrADocumentedException(FuzzedDataProvider data) {
        DType weightType = data.pickValue(new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT64, DType.FLOAT16,
            DType.BFLOAT16});
        long rows = data.consumeInt(0, 40);
        long dim = data.consumeInt(0, 40);
        try (Tensor weight = randomTensor(data, weightType, rows, dim);
             Tensor indices = randomIndices(data, rows);
             Tensor original = weight.clone()) {
            Long paddingIdx = data.consumeBoolean() ? (long) data.consumeInt(-45, 45) : null;
            Double maxNorm = data.consumeBoolean() ? pickDouble(data, 0, 0.5, 1, 3, -1, Double.NaN,
                    Double.POSITIVE_INFINITY) : null;
            double normType = pickDouble(data, 2, 1, 0, 3, 0.5, -1, Double.POSITIVE_INFINITY,
                    Double.NEGATIVE_INFINITY, Double.NaN);
            boolean intoOutput = data.consumeBoolean();
            long[] outShape = outputShape(indices, dim);
            if (intoOutput && data.consumeBoolean()) {
                outShape[outShape.length - 1] += data.consumeInt(-1, 1);
            }
            DType outType = intoOutput && data.consumeBoolean() ? DType.FLOAT64 : weightType;
            try (Tensor out = intoOutput && dimsNonNegative(outShape) ? Torch.full(outType, -7, outShape) : null;
                 Tensor outBefore = out == null ? null : out.clone()) {
                Tensor result = null;
                try {
                    if (out != null) {
                        F.embedding(indices, weight, paddingIdx, maxNorm, normType, out);
                        result = out;
                    } else {
                        result = F.embedding(indices, weight, paddingIdx, maxNorm, normType, false, false);
                    }
                } catch (IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException e) {
                    assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "exceptions say what was wrong");
                    assertTrue(sameValues(original, weight), "a failed call left the weight as it was");
                    if (out != null) {
                        assertTrue(sameValues(outBefore, out), "a failed call left the output as it was");
                    }
                    return;
                }
                try (Tensor expectedWeight = original.clone();
                     Tensor expectedOut = Torch.empty(weightType, outputShape(indices, dim))) {
                    if (maxNorm != null) {
                        Backends.java().embeddingRenorm(expectedWeight, indices, maxNorm, normType);
                    }
                    Backends.java().embedding(expectedWeight, indices, expectedOut);
                    double tolerance = renormTolerance(weightType);
                    assertClose(expectedWeight, weight, maxNorm == null ? 0 : tolerance, "weight");
                    assertClose(expectedOut, result, maxNorm == null ? 0 : tolerance, "output");
                } finally {
                    if (result != out) {
                        result.close();
                    }
                }
            }
        }
    }

    /**
     * {@code F.embeddingBag} with any weight, indices (rank 0 to 3), offsets (well-formed or not), mode, per-sample
     * weights, padding_idx, max_norm, include_last_offset and output: the Java backend's result (computed here from
     * the arguments the call accepted) or a documented exception with nothing changed.
     */
    @FuzzTest(maxDuration = "60s")
    void functionalEmbeddingBagGivesTheJavaResultOrADocumentedException(FuzzedDataProvider data) {
        DType weightType = data.pickValue(new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT64});
        long rows = data.consumeInt(0, 30);
        long dim = data.consumeInt(0, 20);
        try (Tensor weight = randomTensor(data, weightType, rows, dim);
             Tensor indices = randomIndices(data, rows);
             Tensor offsets = randomOffsets(data, indices);
             Tensor original = weight.clone()) {
            EmbeddingBagMode mode = data.consumeInt(0, 15) == 0 ? null : data.pickValue(EmbeddingBagMode.values());
            Long paddingIdx = data.consumeBoolean() ? (long) data.consumeInt(-35, 35) : null;
            Double maxNorm = data.consumeInt(0, 3) == 0 ? pickDouble(data, 0, 0.5, 1, -1, Double.NaN) : null;
            double normType = pickDouble(data, 2, 1, Double.POSITIVE_INFINITY, Double.NaN);
            boolean includeLastOffset = data.consumeBoolean();
            boolean scaleGradByFreq = data.consumeInt(0, 3) == 0;
            boolean sparse = data.consumeInt(0, 3) == 0;
            long[] pswShape = indices.shape();
            if (pswShape.length > 0 && data.consumeInt(0, 7) == 0) {
                pswShape[0] += 1;
            }
            DType pswType = data.consumeInt(0, 7) == 0 ? DType.FLOAT64 : weightType == DType.INT64 ? DType.FLOAT32
                    : weightType;
            boolean intoOutput = data.consumeBoolean();
            try (Tensor psw = data.consumeBoolean() ? randomTensor(data, pswType, pswShape) : null;
                 Tensor out = intoOutput ? Torch.full(weightType == DType.INT64 ? DType.FLOAT32 : weightType, -7,
                         data.consumeInt(0, 12), dim) : null;
                 Tensor outBefore = out == null ? null : out.clone()) {
                Tensor result;
                try {
                    if (out != null) {
                        F.embeddingBag(indices, weight, offsets, maxNorm, normType, mode, psw, includeLastOffset,
                                paddingIdx, out);
                        result = out;
                    } else {
                        result = F.embeddingBag(indices, weight, offsets, maxNorm, normType, scaleGradByFreq, mode,
                                sparse, psw, includeLastOffset, paddingIdx);
                    }
                } catch (IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException
                         | UnsupportedOperationException e) {
                    assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "exceptions say what was wrong");
                    assertTrue(sameValues(original, weight), "a failed call left the weight as it was");
                    if (out != null) {
                        assertTrue(sameValues(outBefore, out), "a failed call left the output as it was");
                    }
                    return;
                }
                try (Tensor expectedWeight = original.clone();
                     Tensor flat = Torch.empty(DType.INT64, indices.numel()).copy_(reshaped(indices));
                     Tensor wideOffsets = offsets == null || indices.dim() == 2 ? null
                             : Torch.empty(DType.INT64, offsets.shape()).copy_(offsets);
                     Tensor expectedOut = Torch.empty(weightType, result.shape())) {
                    if (maxNorm != null) {
                        Backends.java().embeddingRenorm(expectedWeight, flat, maxNorm, normType);
                    }
                    long padding = paddingIdx == null ? -1 : paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
                    Backends.java().embeddingBag(expectedWeight, flat, wideOffsets,
                            indices.dim() == 2 ? indices.size(1) : 0, mode, psw, padding, expectedOut, null);
                    double tolerance = renormTolerance(weightType);
                    assertClose(expectedWeight, weight, maxNorm == null ? 0 : tolerance, "weight");
                    assertClose(expectedOut, result, maxNorm == null ? 0 : 4 * tolerance, "pooled output");
                } finally {
                    if (result != out) {
                        result.close();
                    }
                }
            }
        }
    }

    /** The index tensor's elements as a 1-D tensor of the same dtype (a copy). */
    private static Tensor reshaped(Tensor indices) {
        Tensor flat = Torch.empty(indices.dtype(), indices.numel());
        if (indices.dtype() == DType.INT64) {
            return flat.copyFrom(indices.toLongArray());
        }
        return flat.copyFrom(indices.toIntArray());
    }

    /** Offsets for a 1-D input: well-formed (sorted, from 0) most of the time, any values now and then; or none. */
    private static Tensor randomOffsets(FuzzedDataProvider data, Tensor indices) {
        if (data.consumeInt(0, 5) == 0) {
            return null;
        }
        long n = indices.numel();
        int count = data.consumeInt(0, 8);
        long[] values = new long[count];
        boolean wellFormed = data.consumeInt(0, 3) != 0;
        for (int i = 0; i < count; i++) {
            values[i] = wellFormed ? (i == 0 ? 0 : Math.min(n, values[i - 1] + data.consumeInt(0, 4)))
                    : data.pickValue(new long[] {0, 1, -1, n, n + 1, Long.MAX_VALUE, Long.MIN_VALUE, 3});
        }
        if (wellFormed && count > 0 && data.consumeBoolean()) {
            values[count - 1] = n;
        }
        if (data.consumeBoolean()) {
            return Torch.tensor(values);
        }
        int[] narrow = new int[count];
        for (int i = 0; i < count; i++) {
            narrow[i] = (int) values[i];
        }
        return Torch.tensor(narrow);
    }

    /**
     * A module through random call sequences: forwards, backwards with random upstream gradients, optimizer steps,
     * zeroGrad, weight replacement and use after close.
     */
    @FuzzTest(maxDuration = "60s")
    void moduleCallSequencesGiveTheJavaResultOrADocumentedException(FuzzedDataProvider data) {
        long rows = data.consumeInt(-2, 30);
        long dim = data.consumeInt(-2, 20);
        DType dtype = data.pickValue(new DType[] {DType.FLOAT32, DType.FLOAT64});
        EmbeddingOptions options;
        Embedding module;
        try {
            options = new EmbeddingOptions(rows, dim).dtype(dtype).sparse(data.consumeBoolean());
            if (data.consumeBoolean()) {
                options.paddingIdx(data.consumeInt(-32, 32));
            }
            if (data.consumeBoolean()) {
                options.maxNorm(pickDouble(data, 0.5, 1, 2, -1, Double.NaN));
            }
            if (data.consumeBoolean()) {
                options.scaleGradByFreq(true);
            }
            module = new Embedding(options);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            // IndexOutOfBoundsException: padding_idx 0 of a table with no rows, PyTorch's IndexError.
            assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
            return;
        }
        Optimizer optimizer = options.sparse()
                ? new SparseAdam(module.parameters(), new AdamOptions(0.01))
                : new SGD(module.parameters(), new SGDOptions(0.1).momentum(data.consumeBoolean() ? 0.9 : 0));
        try {
            int steps = data.consumeInt(0, 6);
            for (int s = 0; s < steps && data.remainingBytes() > 0; s++) {
                int action = data.consumeInt(0, 4);
                try (Tensor indices = randomIndices(data, rows)) {
                    Tensor weightBefore = module.weight().clone();
                    try {
                        switch (action) {
                            case 0:
                            case 1:
                                forwardAndBackward(data, module, indices, action == 1);
                                break;
                            case 2:
                                optimizer.step();
                                break;
                            case 3:
                                optimizer.zeroGrad();
                                break;
                            default:
                                module.close();
                                module.forward(indices).close();
                                fail("a closed module must refuse forward");
                        }
                    } catch (IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException e) {
                        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
                        if (action <= 1) {
                            assertTrue(sameValues(weightBefore, module.weight()),
                                    "a failed forward left the weight as it was");
                        }
                        if (action == 4) {
                            return;
                        }
                    } finally {
                        weightBefore.close();
                    }
                }
            }
        } finally {
            optimizer.close();
            module.close();
        }
    }

    private static void forwardAndBackward(FuzzedDataProvider data, Embedding module, Tensor indices,
                                           boolean backward) {
        Tensor original = module.weight().clone();
        try (Tensor out = module.forward(indices);
             Tensor expectedWeight = original.clone();
             Tensor expectedOut = Torch.empty(original.dtype(), out.shape())) {
            if (module.maxNorm() != null) {
                Backends.java().embeddingRenorm(expectedWeight, indices, module.maxNorm(), module.normType());
            }
            Backends.java().embedding(expectedWeight, indices, expectedOut);
            double tolerance = module.maxNorm() == null ? 0 : renormTolerance(original.dtype());
            assertClose(expectedWeight, module.weight(), tolerance, "module weight");
            assertClose(expectedOut, out, tolerance, "module output");
            if (backward) {
                try (Tensor upstream = randomTensor(data, out.dtype(), out.shape())) {
                    out.backward(upstream);
                } catch (UnsupportedOperationException e) {
                    // PyTorch refuses a sparse gradient with scale_grad_by_freq at backward time, as jembed does.
                    assertTrue(module.sparse() && module.scaleGradByFreq(), e.getMessage());
                    return;
                }
                SparseTensor sparse = module.weight().sparseGrad();
                Tensor dense = sparse == null ? module.weight().grad() : null;
                assertTrue(sparse != null || dense != null, "backward left a gradient");
                if (dense != null) {
                    assertArrayEquals(module.weight().shape(), dense.shape());
                }
            }
        } finally {
            original.close();
        }
    }

    private static void assertClose(Tensor expected, Tensor actual, double rtol, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what);
        assertArrayEquals(expected.shape(), actual.shape(), what);
        double[] want = expected.toDoubleArray();
        double[] got = actual.toDoubleArray();
        for (int i = 0; i < want.length; i++) {
            boolean same = Double.compare(want[i], got[i]) == 0
                    || Math.abs(want[i] - got[i]) <= rtol * Math.abs(want[i]);
            if (!same) {
                fail(what + " element " + i + ": expected the Java backend's " + want[i] + " but got " + got[i]);
            }
        }
    }

    /** Same shape and values, NaN equal to NaN (the data holds NaNs on purpose) and -0 distinct from 0. */
    private static boolean sameValues(Tensor a, Tensor b) {
        if (!java.util.Arrays.equals(a.shape(), b.shape()) || a.dtype() != b.dtype()) {
            return false;
        }
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            if (Double.compare(x[i], y[i]) != 0) {
                return false;
            }
        }
        return true;
    }

    private static Tensor randomTensor(FuzzedDataProvider data, DType dtype, long... shape) {
        Tensor t = Torch.zeros(dtype, shape);
        long n = Math.min(t.numel(), 4096);
        for (long i = 0; i < n && data.remainingBytes() > 0; i++) {
            double v = data.consumeInt(0, 31) == 0
                    ? pickDouble(data, Double.NaN, Double.POSITIVE_INFINITY, -0.0, 1e-40, 3e38)
                    : data.consumeInt(-64, 64) / 8.0;
            setFlat(t, i, v);
        }
        return t;
    }

    /** Indices of rank 0 to 3 (sizes up to 6, empty included), int32 or int64, mostly in [0, rows). */
    private static Tensor randomIndices(FuzzedDataProvider data, long rows) {
        int rank = data.consumeInt(0, 3);
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++) {
            shape[d] = data.consumeInt(0, 6);
        }
        Tensor idx = Torch.zeros(data.consumeBoolean() ? DType.INT64 : DType.INT32, shape);
        for (long i = 0; i < idx.numel(); i++) {
            long v = data.consumeInt(0, 15) == 0
                    ? data.pickValue(new long[] {-1, rows, Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE})
                    : rows > 0 ? data.consumeLong(0, rows - 1) : 0;
            if (idx.dtype() == DType.INT32) {
                v = (int) v;
            }
            setFlat(idx, i, v);
        }
        return idx;
    }

    private static void setFlat(Tensor t, long flat, double value) {
        long[] shape = t.shape();
        long[] at = new long[shape.length];
        long rest = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = rest % shape[d];
            rest /= shape[d];
        }
        t.set(value, at);
    }

    private static double pickDouble(FuzzedDataProvider data, double... choices) {
        return choices[data.consumeInt(0, choices.length - 1)];
    }

    private static long[] outputShape(Tensor indices, long dim) {
        long[] shape = java.util.Arrays.copyOf(indices.shape(), indices.dim() + 1);
        shape[indices.dim()] = dim;
        return shape;
    }

    private static boolean dimsNonNegative(long[] shape) {
        for (long s : shape) {
            if (s < 0) {
                return false;
            }
        }
        return true;
    }
}
