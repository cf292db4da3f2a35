package io.jembed.reference;

import static io.jembed.reference.TensorAssertions.assertBitIdentical;
import static io.jembed.reference.TensorAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingOptions;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * jembed's {@link Generator} (MT19937 and PyTorch's recipes in {@code RandomFill}) against libtorch's CPU generator,
 * both seeded alike ({@code Torch.manualSeed(s)} or {@code new Generator(s)}, and {@code torch::manual_seed(s)}).
 *
 * <p><b>uniform_</b> must be <b>bit-identical</b>: both draw 24 (float32) or 53 (float64) bits of MT19937 per element
 * and scale them with the same arithmetic. One exception is pinned by a disabled test until jembed is fixed: libtorch's
 * AVX2 kernels fuse {@code x * (to - from) + from} into one FMA, which jembed does not, so float64 samples over ranges
 * other than those below differ by an ulp ({@link #uniformOverAnyRangeIsBitIdentical()}).
 *
 * <p><b>normal_ / randn</b> agree to a tolerance, {@code |jembed - libtorch| <= tol * (std + |libtorch|)}:
 * <ul>
 *   <li>float32, {@link #FLOAT32_TOL} = 1e-6. For 16 elements or more libtorch's AVX2 kernel evaluates log, cos and
 *       sin in float with its own polynomial approximations (Sleef-like), where jembed rounds the double functions
 *       to float. Measured over 200 seeds x 1,000 to 10,000 elements x three (mean, std): 16% of the elements differ,
 *       by at most 3 ulp; |difference| / (1 + |value|) at most 2.5e-7. Smaller tensors draw one
 *       {@code normal_distribution<double>} sample per element and round it: identical in every case measured.</li>
 *   <li>float64, {@link #FLOAT64_TOL} = 1e-15. libtorch uses glibc's log/cos/sin in double, jembed Java's
 *       {@code Math} functions; both are within an ulp of exact, so results differ by a few ulp (0.2% of the
 *       elements, |difference| / (1 + |value|) at most 2.8e-16 in the same measurement). libtorch's AVX2 build also
 *       fuses {@code z * std + mean} into an FMA where jembed rounds twice: with (mean, std) = (-3, 0.1) that alone
 *       makes 2% of the float64 samples differ by an ulp, within the tolerance.</li>
 * </ul>
 * This test's own samples use at most 16% of either tolerance (it prints the figure). Any mistake in the recipe (a draw
 * too many or too few, the wrong pairing of the Box-Muller block, a missed cache of the second sample, a partial last
 * block not redrawn) shifts the stream and gives differences of order 1, which these tolerances catch.
 */
class GeneratorMatchesLibtorchTest {
    static final double FLOAT32_TOL = 1e-6;
    static final double FLOAT64_TOL = 1e-15;

    private static final long FIXED_SEED = 0x5EED_6E4L;
    private static final long[] UNIFORM_SIZES = {1, 5, 15, 16, 17, 100, 1000};
    private static final long[] NORMAL_SIZES = {1, 3, 15, 16, 17, 31, 33, 100, 1000};
    private static final double[][] MEAN_STD = {{0, 1}, {0.5, 2}, {-3, 0.1}};
    private static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT64};

    private static long[] seeds;
    private static long base;

    @BeforeAll
    static void loadLibtorchAndPickSeeds() {
        assertEquals(1, Libtorch.threads());
        base = Reproduce.baseSeed(FIXED_SEED);
        SplittableRandom random = new SplittableRandom(base);
        // Fixed seeds (0, small, PyTorch's default, one above 2^32, -1 = 2^64 - 1 for libtorch's uint64_t), and two
        // random ones from the base seed.
        seeds = LongStream.concat(LongStream.of(0, 1, 42, Generator.DEFAULT_SEED, (1L << 32) + 7, -1L),
                LongStream.of(random.nextLong(), random.nextLong() >>> 33)).toArray();
    }

    static double tolerance(DType dtype) {
        return dtype == DType.FLOAT32 ? FLOAT32_TOL : FLOAT64_TOL;
    }

    private static String header(long seed) {
        return "[-D" + Reproduce.SEED_PROPERTY + "=" + base + ", generator seed " + seed + "] ";
    }

    /** Normal samples: {@code |a - b| <= tol * std + tol * |b|}. */
    private static double assertNormalClose(Tensor expected, Tensor actual, double std, Supplier<String> what) {
        double tol = tolerance(expected.dtype());
        return assertClose(expected, actual, tol, tol * std, what);
    }

    /** {@code uniform_()} over [0, 1) (also {@code Torch.rand}), from the default generator and from a new one. */
    @Test
    void uniformIsBitIdenticalAfterTheSameSeed() {
        for (long seed : seeds) {
            for (DType dtype : FLOATS) {
                for (long n : UNIFORM_SIZES) {
                    checkUniform(seed, dtype, n, 0, 1);
                }
                Libtorch.manualSeed(seed);
                try (Tensor expected = Libtorch.uniform(dtype, 0, 1, 6, 7);
                     Tensor actual = Torch.rand(new Generator(seed), dtype, 6, 7)) {
                    assertBitIdentical(expected, actual, () -> header(seed) + dtype + " Torch.rand(6, 7)");
                }
            }
        }
    }

    /**
     * {@code uniform_(from, to)} in float32, whose double arithmetic rounds to float whether or not it is fused, and
     * in float64 over ranges where {@code x * (to - from)} is exact, so that fusing cannot matter either (see
     * {@link #uniformOverAnyRangeIsBitIdentical()} for the others).
     */
    @Test
    void uniformOverARangeIsBitIdenticalWhereRoundingCannotDiffer() {
        for (long seed : seeds) {
            for (long n : UNIFORM_SIZES) {
                checkUniform(seed, DType.FLOAT32, n, -2, 3);
                checkUniform(seed, DType.FLOAT32, n, 0.1, 0.7);
                checkUniform(seed, DType.FLOAT64, n, 5, 5.5);
                checkUniform(seed, DType.FLOAT64, n, -1, 1);
            }
        }
    }

    /**
     * libtorch's CPU kernels are compiled for AVX2 with FMA (and chosen at run time on any AVX2 machine), and the
     * compiler fuses {@code x * (to - from) + from} of {@code transformation::uniform_real} into one fused
     * multiply-add: in float64 over [-2, 3), 37% of the samples differ by one ulp from the unfused expression.
     */
    @Test
    void uniformOverAnyRangeIsBitIdentical() {
        double[][] ranges = {{-2, 3}, {0.1, 0.7}, {-100, 1e-3}};
        for (long seed : seeds) {
            for (DType dtype : FLOATS) {
                for (long n : UNIFORM_SIZES) {
                    for (double[] range : ranges) {
                        checkUniform(seed, dtype, n, range[0], range[1]);
                    }
                }
            }
        }
    }

    private static void checkUniform(long seed, DType dtype, long n, double from, double to) {
        Supplier<String> what = () -> header(seed) + dtype + " uniform_(" + from + ", " + to + ") of " + n;
        Libtorch.manualSeed(seed);
        Torch.manualSeed(seed);
        try (Tensor expected = Libtorch.uniform(dtype, from, to, n);
             Tensor viaDefault = Torch.empty(dtype, n).uniform_(from, to);
             Tensor viaOwn = Torch.empty(dtype, n).uniform_(from, to, new Generator(seed))) {
            assertBitIdentical(expected, viaDefault, () -> what.get() + " (Torch.manualSeed)");
            assertBitIdentical(expected, viaOwn, () -> what.get() + " (new Generator(seed))");
        }
    }

    @Test
    void normalMatchesWithinTolerance() {
        double worst32 = 0;
        double worst64 = 0;
        for (long seed : seeds) {
            for (DType dtype : FLOATS) {
                for (long n : NORMAL_SIZES) {
                    for (double[] meanStd : MEAN_STD) {
                        double mean = meanStd[0];
                        double std = meanStd[1];
                        Libtorch.manualSeed(seed);
                        try (Tensor expected = Libtorch.normal(dtype, mean, std, n);
                             Tensor actual = Torch.empty(dtype, n).normal_(mean, std, new Generator(seed))) {
                            double worst = assertNormalClose(expected, actual, std,
                                    () -> header(seed) + dtype + " normal_(" + mean + ", " + std + ") of " + n);
                            if (dtype == DType.FLOAT32) {
                                worst32 = Math.max(worst32, worst);
                            } else {
                                worst64 = Math.max(worst64, worst);
                            }
                        }
                    }
                }
            }
        }
        System.out.println("GeneratorMatchesLibtorchTest: normal_ samples used at most " + worst32 + " (float32) and "
                + worst64 + " (float64) of their tolerance tol * (std + |value|)");
    }

    @Test
    void randnMatchesTorchRandnWithinTolerance() {
        long[][] shapes = {{1}, {16}, {17}, {10, 3}, {4, 5, 6}, {1000}, {0}, {}};
        for (long seed : seeds) {
            for (long[] shape : shapes) {
                for (DType dtype : FLOATS) {
                    Libtorch.manualSeed(seed);
                    try (Tensor expected = Libtorch.randn(dtype, shape);
                         Tensor actual = Torch.randn(new Generator(seed), dtype, shape)) {
                        assertNormalClose(expected, actual, 1,
                                () -> header(seed) + dtype + " randn" + Arrays.toString(shape));
                    }
                }
                // Torch.randn(shape): float32 from the default generator.
                Libtorch.manualSeed(seed);
                Torch.manualSeed(seed);
                try (Tensor expected = Libtorch.randn(DType.FLOAT32, shape); Tensor actual = Torch.randn(shape)) {
                    assertNormalClose(expected, actual, 1,
                            () -> header(seed) + "Torch.randn" + Arrays.toString(shape) + " (default generator)");
                }
            }
        }
    }

    /**
     * One seed, then a run of draws of different kinds and sizes from the same generator: every draw must consume
     * exactly as many 32-bit words as libtorch's, and the second Box-Muller sample that small normal draws cache
     * (shared by float32 and float64) must be used, and dropped by a reseed, as libtorch does. A uniform draw after
     * normal ones is compared bit for bit, so any drift in the stream shows.
     */
    @Test
    void streamsStayInStepAcrossMixedDraws() {
        // {kind (0 uniform, 1 normal), dtype (0 float32, 1 float64), size}
        int[][] program = {
            {1, 0, 3}, {1, 0, 1}, {0, 0, 5}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 1, 3}, {1, 0, 17}, {1, 1, 1},
            {0, 0, 16}, {1, 1, 33}, {1, 0, 2}, {0, 1, 1}, {1, 0, 1}, {1, 1, 15}, {0, 0, 1000}, {1, 0, 100},
            {0, 1, 7}, {1, 1, 1}, {0, 0, 1},
        };
        for (long seed : seeds) {
            Libtorch.manualSeed(seed);
            Generator generator = new Generator(seed);
            // A reseed must drop a cached normal sample: draw an odd number first, then seed again.
            Libtorch.normal(DType.FLOAT64, 0, 1, 1).close();
            Torch.empty(DType.FLOAT64, 1).normal_(0, 1, generator).close();
            Libtorch.manualSeed(seed);
            generator.manualSeed(seed);
            for (int step = 0; step < program.length; step++) {
                int[] draw = program[step];
                DType dtype = draw[1] == 0 ? DType.FLOAT32 : DType.FLOAT64;
                int at = step;
                Supplier<String> what = () -> header(seed) + "step " + at + " of " + Arrays.deepToString(program)
                        + ": " + (draw[0] == 0 ? "uniform_" : "normal_") + " " + dtype + " of " + draw[2];
                if (draw[0] == 0) {
                    try (Tensor expected = Libtorch.uniform(dtype, 0, 1, draw[2]);
                         Tensor actual = Torch.empty(dtype, draw[2]).uniform_(0, 1, generator)) {
                        assertBitIdentical(expected, actual, what);
                    }
                } else {
                    try (Tensor expected = Libtorch.normal(dtype, 0, 1, draw[2]);
                         Tensor actual = Torch.empty(dtype, draw[2]).normal_(0, 1, generator)) {
                        assertNormalClose(expected, actual, 1, what);
                    }
                }
            }
        }
    }

    /** An unseeded generator starts from PyTorch's default_rng_seed_val, and draws what libtorch's fresh one does. */
    @Test
    void aFreshGeneratorStartsFromPyTorchsDefaultSeed() {
        assertEquals(Libtorch.defaultSeed(), Generator.DEFAULT_SEED, "Generator.DEFAULT_SEED");
        assertEquals(Libtorch.defaultSeed(), new Generator().initialSeed(), "new Generator().initialSeed()");
        for (DType dtype : FLOATS) {
            try (Tensor expected = Libtorch.randFromFreshGenerator(dtype, 100);
                 Tensor actual = Torch.rand(new Generator(), dtype, 100)) {
                assertBitIdentical(expected, actual, () -> dtype + " rand(100) from a fresh generator");
            }
        }
    }

    /**
     * {@code Torch.manualSeed(s); new Embedding(V, H)} draws the weight that {@code torch::manual_seed(s);
     * torch::nn::Embedding(V, H)} does (libtorch's C++ module: {@code reset_parameters()} is {@code normal_(0, 1)},
     * then the padding row filled with 0). Sizes cover both normal recipes (fewer and more than 16 elements).
     */
    @Test
    void newEmbeddingWeightMatchesTorchNnEmbedding() {
        Object[][] modules = {
            {10L, 3L, null}, {5L, 3L, null}, {1L, 1L, null}, {10L, 3L, 0L}, {10L, 3L, -1L}, {7L, 16L, 3L},
            {4L, 4L, -4L}, {300L, 64L, 299L}, {3L, 5L, 1L},
        };
        int checked = 0;
        for (long seed : seeds) {
            for (Object[] m : modules) {
                long rows = (Long) m[0];
                long dim = (Long) m[1];
                Long paddingIdx = (Long) m[2];
                Supplier<String> what = () -> header(seed) + "Embedding(" + rows + ", " + dim + ", padding_idx="
                        + paddingIdx + ")";
                EmbeddingOptions options = new EmbeddingOptions(rows, dim);
                if (paddingIdx != null) {
                    options.paddingIdx(paddingIdx);
                }
                try (Tensor expected = Libtorch.embeddingModuleWeight(seed, rows, dim, paddingIdx)) {
                    Torch.manualSeed(seed);
                    try (Embedding module = new Embedding(options)) {
                        assertNormalClose(expected, module.weight(), 1, () -> what.get() + " after Torch.manualSeed");
                        if (paddingIdx != null) {
                            long row = paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
                            assertPaddingRowIsExactlyZero(expected, row, () -> what.get() + ", libtorch (sanity check)");
                            assertPaddingRowIsExactlyZero(module.weight(), row, what);
                        }
                        // resetParameters() redraws from the module's generator, as reset_parameters() does.
                        Torch.manualSeed(seed);
                        module.resetParameters();
                        assertNormalClose(expected, module.weight(), 1, () -> what.get() + " after resetParameters()");
                    }
                    try (Embedding module = new Embedding(options.generator(new Generator(seed)))) {
                        assertNormalClose(expected, module.weight(), 1, () -> what.get() + " with its own generator");
                    }
                    checked++;
                }
            }
        }
        assertTrue(checked >= seeds.length * modules.length);
    }

    private static void assertPaddingRowIsExactlyZero(Tensor weight, long row, Supplier<String> what) {
        long dim = weight.size(1);
        long[] bits = TensorAssertions.rawBits(weight);
        for (long j = 0; j < dim; j++) {
            long b = bits[(int) (row * dim + j)];
            assertEquals(0L, b, () -> what.get() + ": padding row " + row + " element must be +0.0, has bits 0x"
                    + Long.toHexString(b));
        }
    }
}
