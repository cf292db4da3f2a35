package io.jembed.reference;

import java.util.SplittableRandom;

/** Index shapes and index values for the randomized differential tests against libtorch. */
final class RandomIndices {
    private RandomIndices() {}

    /** Rank 0 to 3, sides 0 to 6 (an empty side now and then), at most a few hundred indices. */
    static long[] shape(SplittableRandom random) {
        int rank = random.nextInt(4);
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++) {
            shape[d] = random.nextInt(12) == 0 ? 0 : 1 + random.nextInt(rank == 1 ? 200 : 6);
        }
        return shape;
    }

    /** Uniform indices, or a few distinct ones repeated many times, always sprinkled with the first and last rows. */
    static long[] values(SplittableRandom random, long rows, int n) {
        long[] indices = new long[n];
        long[] pool = null;
        if (random.nextBoolean()) {
            pool = new long[1 + random.nextInt(4)];
            for (int i = 0; i < pool.length; i++) {
                pool[i] = random.nextLong(rows);
            }
        }
        for (int i = 0; i < n; i++) {
            int pick = random.nextInt(10);
            if (pick == 0) {
                indices[i] = 0;
            } else if (pick == 1) {
                indices[i] = rows - 1;
            } else {
                indices[i] = pool != null ? pool[random.nextInt(pool.length)] : random.nextLong(rows);
            }
        }
        return indices;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long side : shape) {
            n *= side;
        }
        return n;
    }
}
