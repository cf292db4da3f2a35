package io.jembed.backend;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.internal.Bags;
import io.jembed.internal.HalfFloats;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.nn.EmbeddingBagMode;

/**
 * The Java reference of the EmbeddingBag forward on float16 and bfloat16 tables, which the native kernels must match
 * bit for bit: each element is widened exactly to float, a bag's sum accumulates in float from +0 in input order
 * (per-sample weights, also widened, fused as {@code fma(w, x, acc)} without {@code paddingIdx}, as libtorch's FBGEMM
 * path does, else multiplied and then added, as its other path does), a mean divides that float sum by the count, and
 * the result is rounded once to the table's format, to nearest even. MAX compares widened values and keeps the first
 * largest (a NaN winner comes out as float16's quiet NaN or bfloat16's {@code 0x7FC0}).
 *
 * <p>Where libtorch differs (README, "float16 and bfloat16 tables"): its FBGEMM path rounds a bfloat16 bag's sum with
 * ties away from zero, and its mean rounds the sum to 16 bits before dividing and rounds again.
 *
 * <p>Thread-safe: stateless.
 */
final class HalfBags {
    private HalfBags() {}

    static void bag(Tensor weight, Tensor indices, Tensor offsets, long bagSize, EmbeddingBagMode mode,
                    Tensor perSampleWeights, long paddingIdx, Tensor out, Tensor maxIndices) {
        Bags bags = new Bags(indices, offsets, bagSize, out.size(0));
        Memory table = TensorInternals.memory(weight);
        Memory idx = TensorInternals.memory(indices);
        Memory target = TensorInternals.memory(out);
        Memory weights = perSampleWeights == null ? null : TensorInternals.memory(perSampleWeights);
        Memory argmax = maxIndices == null ? null : TensorInternals.memory(maxIndices);
        boolean wide = indices.dtype() == DType.INT64;
        boolean half = weight.dtype() == DType.FLOAT16;
        boolean fused = paddingIdx < 0;
        int dim = Math.toIntExact(weight.size(1));
        float[] acc = new float[dim];
        long[] winner = new long[dim];
        for (long b = 0; b < bags.numBags(); b++) {
            java.util.Arrays.fill(acc, 0f);
            java.util.Arrays.fill(winner, -1);
            long count = 0;
            for (long i = bags.start(b); i < bags.end(b); i++) {
                long r = Bags.read(idx, wide, i);
                if (r == paddingIdx) {
                    continue;
                }
                float w = weights == null ? 1f : widen(weights.getShort(2 * i), half);
                for (int j = 0; j < dim; j++) {
                    float x = widen(table.getShort(2 * (r * dim + j)), half);
                    if (mode == EmbeddingBagMode.MAX) {
                        if (count == 0 || x > acc[j]) {
                            acc[j] = x;
                            winner[j] = r;
                        }
                    } else if (weights == null) {
                        acc[j] += x;
                    } else if (fused) {
                        acc[j] = Math.fma(w, x, acc[j]);
                    } else {
                        acc[j] += x * w;
                    }
                }
                count++;
            }
            long outRow = b * dim;
            for (int j = 0; j < dim; j++) {
                float v = mode == EmbeddingBagMode.MEAN ? acc[j] / (float) Math.max(count, 1) : acc[j];
                target.putShort(2 * (outRow + j), narrow(v, half));
                if (argmax != null) {
                    argmax.putLong(8 * (outRow + j), winner[j]);
                }
            }
        }
    }

    private static float widen(short bits, boolean half) {
        return half ? HalfFloats.float16ToFloat(bits) : HalfFloats.bfloat16ToFloat(bits);
    }

    private static short narrow(float value, boolean half) {
        return half ? HalfFloats.floatToFloat16(value) : HalfFloats.floatToBFloat16(value);
    }
}
