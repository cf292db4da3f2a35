package io.jembed;

/**
 * A seedable source of random numbers: the Mersenne Twister (MT19937) that PyTorch's CPU generator uses, with
 * PyTorch's recipes for turning its output into uniform and normal samples, so that a seed gives the same kind of
 * stream as {@code torch.manual_seed(seed)} (equal bits for {@code uniform_}; equal to float rounding for
 * {@code normal_}, whose transcendental functions PyTorch evaluates with its own vectorised approximations).
 *
 * <p>PyTorch equivalent: {@code torch.Generator}; the default generator is {@link Torch#defaultGenerator()}, seeded
 * like PyTorch's with 67280421310721 until {@link Torch#manualSeed(long)} is called.
 *
 * <p>Thread-safe: every method holds this generator's lock, as PyTorch's does, so concurrent draws interleave but
 * never corrupt the state. Reproducible results need one thread per generator.
 */
public final class Generator {
    /** PyTorch's {@code default_rng_seed_val}. */
    public static final long DEFAULT_SEED = 67280421310721L;

    private static final int N = 624;
    private static final int M = 397;

    private final int[] state = new int[N];
    private int next;
    private long seed;
    private double cachedDoubleNormal;
    private boolean hasCachedDoubleNormal;

    /** A generator seeded with {@link #DEFAULT_SEED}. */
    public Generator() {
        manualSeed(DEFAULT_SEED);
    }

    /** A generator seeded with {@code seed}. PyTorch equivalent: {@code torch.Generator().manual_seed(seed)}. */
    public Generator(long seed) {
        manualSeed(seed);
    }

    /** PyTorch equivalent: {@code Generator.manual_seed(seed)}; only the low 32 bits reach MT19937, as in PyTorch. */
    public synchronized Generator manualSeed(long seed) {
        this.seed = seed;
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            state[j] = 1812433253 * (state[j - 1] ^ (state[j - 1] >>> 30)) + j;
        }
        next = N;
        hasCachedDoubleNormal = false;
        return this;
    }

    /** PyTorch equivalent: {@code Generator.initial_seed()}. */
    public synchronized long initialSeed() {
        return seed;
    }

    /** The next 32 bits of MT19937, as an unsigned value. */
    synchronized long nextUnsigned32() {
        if (next >= N) {
            twist();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (state[i] & 0x80000000) | (state[(i + 1) % N] & 0x7fffffff);
            int value = state[(i + M) % N] ^ (y >>> 1);
            if ((y & 1) != 0) {
                value ^= 0x9908b0df;
            }
            state[i] = value;
        }
        next = 0;
    }

    /** PyTorch's {@code random64()}: two draws, the first one in the high half. */
    private long nextUnsigned64() {
        long high = nextUnsigned32();
        long low = nextUnsigned32();
        return (high << 32) | low;
    }

    /**
     * PyTorch's {@code uniform_real_distribution<float>}: 24 random bits, scaled in double. libtorch's CPU build
     * contracts {@code x * (to - from) + from} into one fused multiply-add, so this does too.
     */
    synchronized double uniformForFloat(float from, float to) {
        double x = (nextUnsigned32() & ((1L << 24) - 1)) * 0x1p-24;
        return Math.fma(x, to - from, from);
    }

    /**
     * PyTorch's {@code uniform_real_distribution<c10::Half>} ({@code digits} 11) and {@code <c10::BFloat16>}
     * ({@code digits} 8): that many random bits scaled in float (their {@code dist_acctype}), and
     * {@code x * (to - from) + from} contracted into one fused multiply-add as in the float case; {@code range} is
     * {@code to - from} already rounded to the 16-bit type, as c10's operator gives it.
     */
    synchronized float uniformForReduced(int digits, float from, float range) {
        float x = (nextUnsigned32() & ((1L << digits) - 1)) * (1.0f / (1 << digits));
        return Math.fma(x, range, from);
    }

    /** PyTorch's {@code uniform_real_distribution<double>}: 53 random bits. */
    synchronized double uniformForDouble(double from, double to) {
        double x = (nextUnsigned64() & ((1L << 53) - 1)) * 0x1p-53;
        return Math.fma(x, to - from, from);
    }

    /** A sample of U[0, 1) with 53 random bits: one element of {@code torch.rand(1, dtype=torch.float64)}. */
    public synchronized double nextDouble() {
        return uniformForDouble(0.0, 1.0);
    }

    /** PyTorch's {@code normal_distribution<double>}: Box-Muller, the second sample cached for the next call. */
    synchronized double normalDouble(double mean, double std) {
        double sample;
        if (hasCachedDoubleNormal) {
            hasCachedDoubleNormal = false;
            sample = cachedDoubleNormal;
        } else {
            double u1 = uniformForDouble(0, 1);
            double u2 = uniformForDouble(0, 1);
            double r = Math.sqrt(-2.0 * Math.log1p(-u2));
            double theta = 2.0 * Math.PI * u1;
            cachedDoubleNormal = r * Math.sin(theta);
            hasCachedDoubleNormal = true;
            sample = r * Math.cos(theta);
        }
        return Math.fma(sample, std, mean);
    }
}
