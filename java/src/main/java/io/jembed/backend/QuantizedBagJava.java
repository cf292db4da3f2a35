package io.jembed.backend;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.internal.Bags;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.internal.HalfFloats;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.nn.EmbeddingBagMode;

/**
 * The Java reference of {@link Backend#quantizedEmbeddingBag}: one element at a time, in FBGEMM's order of operations,
 * written to be read. The native kernels ({@code native/src/quant_bag_loop.h}) must give its bits.
 *
 * <p>Thread-safe: stateless.
 */
final class QuantizedBagJava {
    private QuantizedBagJava() {}

    static void bag(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets, long bagSize,
                    EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out) {
        MemoryGuard guard = MemoryGuard.enter(table, TensorInternals.memory(indices),
                offsets == null ? null : TensorInternals.memory(offsets),
                perSampleWeights == null ? null : TensorInternals.memory(perSampleWeights),
                TensorInternals.memory(out), null);
        try {
            held(table, rows, dim, bits, indices, offsets, bagSize, mode, perSampleWeights, out);
        } finally {
            guard.exit();
        }
    }

    private static void held(Memory table, long rows, long dim, int bits, Tensor indices, Tensor offsets,
                             long bagSize, EmbeddingBagMode mode, Tensor perSampleWeights, Tensor out) {
        if (mode == EmbeddingBagMode.MAX || (bits != 8 && bits != 4) || (bits == 4 && dim % 2 != 0)
                || out.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("a quantized lookup takes 8-bit or 4-bit rows (an even dim for 4-bit), "
                    + "mode sum or mean and a float32 output; got " + bits + "-bit rows of dim " + dim + ", mode "
                    + mode + ", output " + out.dtype());
        }
        Memory idx = TensorInternals.memory(indices);
        boolean wide = indices.dtype() == DType.INT64;
        long n = indices.numel();
        // Every index is checked before anything is written: a failed call changes nothing.
        for (long i = 0; i < n; i++) {
            long r = Bags.read(idx, wide, i);
            if (Long.compareUnsigned(r, rows) >= 0) {
                throw EmbeddingChecks.indexOutOfRange(indices.shape(), i, r, rows);
            }
        }
        long codeBytes = bits == 8 ? dim : dim / 2;
        long rowBytes = codeBytes + (bits == 8 ? 8 : 4);
        Memory weights = perSampleWeights == null ? null : TensorInternals.memory(perSampleWeights);
        Memory target = TensorInternals.memory(out);
        Bags bags = new Bags(indices, offsets, bagSize, out.size(0));
        float[] acc = new float[Math.toIntExact(dim)];
        for (long b = 0; b < bags.numBags(); b++) {
            java.util.Arrays.fill(acc, 0f);
            long start = bags.start(b);
            long end = bags.end(b);
            for (long i = start; i < end; i++) {
                long row = Bags.read(idx, wide, i) * rowBytes;
                float scale = scale(table, row + codeBytes, bits);
                float bias = bias(table, row + codeBytes, bits);
                float w = weights == null ? 1f : weights.getFloat(4 * i);
                float s = w * scale;
                float shift = w * bias;
                for (int j = 0; j < acc.length; j++) {
                    acc[j] = Math.fma(s, code(table, row, j, bits), acc[j] + shift);
                }
            }
            if (mode == EmbeddingBagMode.MEAN) {
                float count = Math.max(end - start, 1);
                for (int j = 0; j < acc.length; j++) {
                    acc[j] = acc[j] / count;
                }
            }
            target.copyFromArray(acc, 0, acc.length, 4 * b * dim);
        }
    }

    /** Element {@code j}'s code: a byte, or the low ({@code j} even) or high nibble of byte {@code j / 2}. */
    static float code(Memory table, long row, int j, int bits) {
        if (bits == 8) {
            return table.getByte(row + j) & 0xFF;
        }
        return (table.getByte(row + j / 2) >> ((j & 1) * 4)) & 0x0F;
    }

    /** The row's scale: float32 (8-bit rows) or float16 (4-bit rows), little-endian, at {@code at}. */
    static float scale(Memory table, long at, int bits) {
        return bits == 8 ? table.getFloat(at) : float16At(table, at);
    }

    /** The row's bias, after its scale. */
    static float bias(Memory table, long at, int bits) {
        return bits == 8 ? table.getFloat(at + 4) : float16At(table, at + 2);
    }

    private static float float16At(Memory table, long at) {
        return HalfFloats.float16ToFloat((short) ((table.getByte(at) & 0xFF) | (table.getByte(at + 1) & 0xFF) << 8));
    }
}
