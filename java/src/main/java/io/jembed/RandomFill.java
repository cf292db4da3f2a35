package io.jembed;

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
            if (tensor.dtype() == DType.FLOAT32) {
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
