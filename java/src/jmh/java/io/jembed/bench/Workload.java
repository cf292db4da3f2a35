package io.jembed.bench;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.backend.NativeBackend;

/**
 * Tables and index sets for the benchmarks. A table is named by where it fits: {@code L2} (512 KB), {@code L3}
 * (16 MB) or {@code DRAM} (512 MB). Index sets are fresh random rows, and there are enough of them that one pass
 * touches more bytes than the L3 holds, so that a DRAM table is really read from memory.
 */
final class Workload {
    private Workload() {}

    static long tableBytes(String table) {
        switch (table) {
            case "L2": return 512L << 10;
            case "L3": return 16L << 20;
            case "DRAM": return 512L << 20;
            default: throw new IllegalArgumentException("table must be L2, L3 or DRAM, got " + table);
        }
    }

    static int rows(String table, int dim) {
        return (int) (tableBytes(table) / (4L * dim));
    }

    /** Enough sets of {@code batch} indices to touch 64 MB of rows per pass (at least 16, at most 65536 sets). */
    static long[][] indexSets(int rows, int batch, int dim, long seed) {
        return indexSetsTouching(rows, batch, (long) dim * 4, seed);
    }

    /**
     * Enough sets of {@code batch} indices that one pass touches 64 MB of rows that each take {@code bytesPerLookup}
     * bytes of cache (at least 16, at most 65536 sets). The sets are drawn in order from the seed, so two calls that
     * differ only in the byte count give the same first sets.
     */
    static long[][] indexSetsTouching(int rows, int batch, long bytesPerLookup, long seed) {
        long perSet = Math.max(1, batch * bytesPerLookup);
        int sets = (int) Math.max(16, Math.min(65536, (64L << 20) / perSet));
        long state = seed * 0x9E3779B97F4A7C15L + 1;
        long[][] result = new long[sets][batch];
        for (int s = 0; s < sets; s++) {
            for (int i = 0; i < batch; i++) {
                state ^= state << 13;
                state ^= state >>> 7;
                state ^= state << 17;
                result[s][i] = Math.floorMod(state, rows);
            }
        }
        return result;
    }

    /** Random values in [-1, 1), fast to make (values don't matter to a gather, only that they are not all zero). */
    static float[] randomValues(long count, long seed) {
        float[] values = new float[Math.toIntExact(count)];
        long state = seed | 1;
        for (int i = 0; i < values.length; i++) {
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            values[i] = (state >>> 40) * 0x1p-23f - 1f;
        }
        return values;
    }

    static Tensor[] toTensors(long[][] sets) {
        Tensor[] tensors = new Tensor[sets.length];
        for (int s = 0; s < sets.length; s++) {
            tensors[s] = Torch.tensor(sets[s]);
        }
        return tensors;
    }

    /** For {@code native-<variant>} implementations, forces the variant; returns false if the CPU can't run it. */
    static boolean selectKernels(String impl) {
        String variant = kernelVariant(impl);
        if (variant == null) {
            return true;
        }
        if (!NativeBackend.supportedKernels().contains(variant)) {
            return false;
        }
        NativeBackend.selectKernels(variant);
        return true;
    }

    /**
     * The kernel variant an implementation name forces ("native-avx2" -> "avx2"), or null for the default dispatch
     * ("native"), a thread count ("native-1t", "native-2t") or anything not native.
     */
    static String kernelVariant(String impl) {
        if (!impl.startsWith("native-") || impl.matches("native-\\d+t")) {
            return null;
        }
        return impl.substring("native-".length());
    }
}
