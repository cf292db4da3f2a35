package io.jembed;

import io.jembed.internal.HalfFloats;

/**
 * PyTorch's CPU recipes for {@code uniform_} and {@code normal_} (aten/src/ATen/native/cpu/DistributionTemplates.h
 * and DistributionKernels.cpp), so that a seed draws the same numbers here as there.
 */
final class RandomFill {
    private static final int BLOCK = 16;

    private RandomFill() {}

    static void uniform(Tensor tensor, double from, double to, Generator generator) {
        long numel = tensor.numel();
        synchronized (generator) {
            if (tensor.dtype().isReducedPrecision()) {
                // from and to are cast to the 16-bit type first, and to - from is c10's 16-bit subtraction.
                ReducedFloat r = new ReducedFloat(tensor.dtype());
                float lo = r.round((float) from);
                float range = r.round(r.round((float) to) - lo);
                for (long i = 0; i < numel; i++) {
                    tensor.flatSet(i, generator.uniformForReduced(r.digits, lo, range));
                }
            } else if (tensor.dtype() == DType.FLOAT32) {
                float lo = (float) from;
                float hi = (float) to;
                for (long i = 0; i < numel; i++) {
                    tensor.flatSet(i, (float) generator.uniformForFloat(lo, hi));
                }
            } else {
                for (long i = 0; i < numel; i++) {
                    tensor.flatSet(i, generator.uniformForDouble(from, to));
                }
            }
        }
    }

    /**
     * Contiguous tensors of 16 or more elements take PyTorch's {@code normal_fill}: every element first gets a
     * uniform sample, then each block of 16 becomes 16 normal samples by Box-Muller (elements j and j+8 pair up), and
     * a partial last block is redrawn over the last 16 elements. Smaller tensors draw one
     * {@code normal_distribution<double>} sample per element.
     */
    static void normal(Tensor tensor, double mean, double std, Generator generator) {
        long numel = tensor.numel();
        synchronized (generator) {
            if (numel < BLOCK) {
                for (long i = 0; i < numel; i++) {
                    tensor.flatSet(i, generator.normalDouble(mean, std));
                }
                return;
            }
            if (tensor.dtype().isReducedPrecision()) {
                normalReduced(tensor, mean, std, generator);
                return;
            }
            boolean single = tensor.dtype() == DType.FLOAT32;
            for (long i = 0; i < numel; i++) {
                tensor.flatSet(i, uniformUnit(generator, single));
            }
            for (long i = 0; i + BLOCK <= numel; i += BLOCK) {
                transformBlock(tensor, i, mean, std, single);
            }
            if (numel % BLOCK != 0) {
                long start = numel - BLOCK;
                for (long i = start; i < numel; i++) {
                    tensor.flatSet(i, uniformUnit(generator, single));
                }
                transformBlock(tensor, start, mean, std, single);
            }
        }
    }

    /**
     * PyTorch's generic {@code normal_fill<c10::Half / c10::BFloat16>}: 16-bit uniform samples, then Box-Muller in the
     * 16-bit type, every c10 operation (including {@code std::log}, {@code std::sqrt}, {@code std::cos} and
     * {@code std::sin}, which c10's {@code BFloat16-math.h} overloads for both types) rounding its float result to it.
     */
    private static void normalReduced(Tensor tensor, double mean, double std, Generator generator) {
        ReducedFloat r = new ReducedFloat(tensor.dtype());
        long numel = tensor.numel();
        float m = r.round((float) mean);
        float s = r.round((float) std);
        for (long i = 0; i < numel; i++) {
            tensor.flatSet(i, generator.uniformForReduced(r.digits, 0f, 1f));
        }
        for (long i = 0; i + BLOCK <= numel; i += BLOCK) {
            transformReducedBlock(tensor, i, m, s, r);
        }
        if (numel % BLOCK != 0) {
            long start = numel - BLOCK;
            for (long i = start; i < numel; i++) {
                tensor.flatSet(i, generator.uniformForReduced(r.digits, 0f, 1f));
            }
            transformReducedBlock(tensor, start, m, s, r);
        }
    }

    private static void transformReducedBlock(Tensor tensor, long start, float mean, float std, ReducedFloat r) {
        for (int j = 0; j < BLOCK / 2; j++) {
            float u1 = r.round(1f - (float) tensor.flatDouble(start + j));
            float u2 = (float) tensor.flatDouble(start + j + BLOCK / 2);
            float radius = r.round((float) Math.sqrt(r.round(-2f * r.round((float) Math.log(u1)))));
            // 2.0f * c10::pi<double> * u2 is computed in double, then cast to the 16-bit type (through float).
            float theta = r.round((float) (2.0 * Math.PI * u2));
            float cos = r.round((float) Math.cos(theta));
            float sin = r.round((float) Math.sin(theta));
            tensor.flatSet(start + j, r.round(r.round(r.round(radius * cos) * std) + mean));
            tensor.flatSet(start + j + BLOCK / 2, r.round(r.round(r.round(radius * sin) * std) + mean));
        }
    }

    /** Rounding to float16 or bfloat16 (and back to float, exactly), and the type's significant bits. */
    private static final class ReducedFloat {
        final boolean half;
        final int digits;

        ReducedFloat(DType dtype) {
            half = dtype == DType.FLOAT16;
            digits = half ? 11 : 8;
        }

        float round(float x) {
            return half ? HalfFloats.float16ToFloat(HalfFloats.floatToFloat16(x))
                    : HalfFloats.bfloat16ToFloat(HalfFloats.floatToBFloat16(x));
        }
    }

    private static double uniformUnit(Generator generator, boolean single) {
        return single ? (float) generator.uniformForFloat(0f, 1f) : generator.uniformForDouble(0.0, 1.0);
    }

    private static void transformBlock(Tensor tensor, long start, double mean, double std, boolean single) {
        for (int j = 0; j < BLOCK / 2; j++) {
            double u1 = 1 - tensor.flatDouble(start + j);
            double u2 = tensor.flatDouble(start + j + BLOCK / 2);
            if (single) {
                // PyTorch's AVX2 kernel works in float: radius and theta rounded to float, results by fused multiply-add.
                float radius = (float) Math.sqrt(-2f * (float) Math.log((float) u1));
                float theta = (float) (2.0 * Math.PI) * (float) u2;
                float n1 = radius * (float) Math.cos(theta);
                float n2 = radius * (float) Math.sin(theta);
                tensor.flatSet(start + j, Math.fma(n1, (float) std, (float) mean));
                tensor.flatSet(start + j + BLOCK / 2, Math.fma(n2, (float) std, (float) mean));
            } else {
                double radius = Math.sqrt(-2 * Math.log(u1));
                double theta = 2.0 * Math.PI * u2;
                // As libtorch's build: the final multiply-add is fused.
                tensor.flatSet(start + j, Math.fma(radius * Math.cos(theta), std, mean));
                tensor.flatSet(start + j + BLOCK / 2, Math.fma(radius * Math.sin(theta), std, mean));
            }
        }
    }
}
