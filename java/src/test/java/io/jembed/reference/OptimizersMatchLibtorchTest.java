package io.jembed.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.optim.Adagrad;
import io.jembed.optim.AdagradOptions;
import io.jembed.optim.Adam;
import io.jembed.optim.AdamOptions;
import io.jembed.optim.Optimizer;
import io.jembed.optim.SGD;
import io.jembed.optim.SGDOptions;
import io.jembed.optim.SparseAdam;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * jembed's optimizers against libtorch 2.10's C++ optimizers and against PyTorch's Python update rules, on 20-step
 * training trajectories of a float64 50 x 8 embedding.
 *
 * <p>Each step draws a random batch of indices (shape (4, 6), a few hot rows so that rows repeat) and a random
 * upstream gradient, the same for every side; jembed runs {@code zeroGrad(); forward; out.backward(upstream); step()},
 * libtorch {@code zero_grad(); torch::embedding; out.backward(upstream); step()}, and the Python-rule references
 * below apply {@code torch/optim/*.py}'s single-tensor update to plain {@code double[]} arrays. The weights are
 * compared after every step.
 */
class OptimizersMatchLibtorchTest {
    private static final long FIXED_SEED = 0x0971_A1L;
    private static final int ROWS = 50;
    private static final int DIM = 8;
    private static final int STEPS = 20;
    private static final long[] BATCH = {4, 6};
    /** The brief's bound; every configuration below states the tighter one the evidence supports. */
    private static final double TOLERANCE = 1e-6;

    @BeforeAll
    static void loadLibtorch() {
        assertEquals(1, LibtorchTraining.load());
    }

    // ---- SGD -----------------------------------------------------------------------------------------------
    // torch::optim::SGD's rule is Python's (torch/optim/sgd.py) but for maximize, so one PySgd models both.

    @Test
    void sgdPlain() {
        run("SGD(lr=0.1)", dense(),
                p -> new SGD(p, new SGDOptions(0.1)),
                w -> LibtorchTraining.Trainer.sgd(w, -1, false, 0.1, 0, 0, 0, false), false,
                () -> new PySgd(0.1, 0, 0, 0, false, false), () -> new PySgd(0.1, 0, 0, 0, false, false));
    }

    @Test
    void sgdMomentumWithDampening() {
        run("SGD(lr=0.05, momentum=0.9, dampening=0.3)", dense(),
                p -> new SGD(p, new SGDOptions(0.05).momentum(0.9).dampening(0.3)),
                w -> LibtorchTraining.Trainer.sgd(w, -1, false, 0.05, 0.9, 0.3, 0, false), false,
                () -> new PySgd(0.05, 0.9, 0.3, 0, false, false), () -> new PySgd(0.05, 0.9, 0.3, 0, false, false));
    }

    @Test
    void sgdNesterov() {
        run("SGD(lr=0.05, momentum=0.8, nesterov=True)", dense(),
                p -> new SGD(p, new SGDOptions(0.05).momentum(0.8).nesterov(true)),
                w -> LibtorchTraining.Trainer.sgd(w, -1, false, 0.05, 0.8, 0, 0, true), false,
                () -> new PySgd(0.05, 0.8, 0, 0, true, false), () -> new PySgd(0.05, 0.8, 0, 0, true, false));
    }

    @Test
    void sgdWeightDecayWithMomentumAndPadding() {
        run("SGD(lr=0.1, momentum=0.5, weight_decay=0.01), padding_idx=3", dense().padding(3),
                p -> new SGD(p, new SGDOptions(0.1).momentum(0.5).weightDecay(0.01)),
                w -> LibtorchTraining.Trainer.sgd(w, 3, false, 0.1, 0.5, 0, 0.01, false), false,
                () -> new PySgd(0.1, 0.5, 0, 0.01, false, false), () -> new PySgd(0.1, 0.5, 0, 0.01, false, false));
    }

    /**
     * torch::optim::SGDOptions has no maximize. Python's rule starts with {@code grad = -grad} and is otherwise the
     * C++ one, so libtorch (and its model) run on the negated upstream gradient: negation is exact, and so is its
     * propagation through the backward's sums. The Python-rule reference runs with maximize itself.
     */
    @Test
    void sgdMaximize() {
        run("SGD(lr=0.1, momentum=0.9, weight_decay=0.02, maximize=True)", dense(),
                p -> new SGD(p, new SGDOptions(0.1).momentum(0.9).weightDecay(0.02).maximize(true)),
                w -> LibtorchTraining.Trainer.sgd(w, -1, false, 0.1, 0.9, 0, 0.02, false), true,
                () -> new PySgd(0.1, 0.9, 0, 0.02, false, true), () -> new PySgd(0.1, 0.9, 0, 0.02, false, false));
    }

    /** libtorch's C++ SGD takes sparse gradients (sparse clone, mul_, add_, and dense add_ sparse), as Python's. */
    @Test
    void sgdSparsePlain() {
        run("SGD(lr=0.1), sparse", sparse(),
                p -> new SGD(p, new SGDOptions(0.1)),
                w -> LibtorchTraining.Trainer.sgd(w, -1, true, 0.1, 0, 0, 0, false), false, null, null);
    }

    @Test
    void sgdSparseMomentumWithDampening() {
        run("SGD(lr=0.05, momentum=0.9, dampening=0.2), sparse", sparse(),
                p -> new SGD(p, new SGDOptions(0.05).momentum(0.9).dampening(0.2)),
                w -> LibtorchTraining.Trainer.sgd(w, -1, true, 0.05, 0.9, 0.2, 0, false), false, null, null);
    }

    @Test
    void sgdSparseNesterovMaximize() {
        run("SGD(lr=0.05, momentum=0.8, nesterov=True, maximize=True), sparse", sparse(),
                p -> new SGD(p, new SGDOptions(0.05).momentum(0.8).nesterov(true).maximize(true)),
                w -> LibtorchTraining.Trainer.sgd(w, -1, true, 0.05, 0.8, 0, 0, true), true, null, null);
    }

    // ---- Adagrad -------------------------------------------------------------------------------------------
    // torch::optim::Adagrad's rule is Python's (torch/optim/adagrad.py) but for maximize.

    @Test
    void adagradLrDecayAndInitialAccumulator() {
        run("Adagrad(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1)", dense(),
                p -> new Adagrad(p, new AdagradOptions(0.1).lrDecay(0.05).initialAccumulatorValue(0.1)),
                w -> LibtorchTraining.Trainer.adagrad(w, -1, false, 0.1, 0.05, 0, 0.1, 1e-10), false,
                () -> new PyAdagrad(0.1, 0.05, 0, 0.1, 1e-10, false),
                () -> new PyAdagrad(0.1, 0.05, 0, 0.1, 1e-10, false));
    }

    @Test
    void adagradWeightDecay() {
        run("Adagrad(lr=0.05, lr_decay=0.01, weight_decay=0.1, eps=1e-6)", dense(),
                p -> new Adagrad(p, new AdagradOptions(0.05).lrDecay(0.01).weightDecay(0.1).eps(1e-6)),
                w -> LibtorchTraining.Trainer.adagrad(w, -1, false, 0.05, 0.01, 0.1, 0, 1e-6), false,
                () -> new PyAdagrad(0.05, 0.01, 0.1, 0, 1e-6, false),
                () -> new PyAdagrad(0.05, 0.01, 0.1, 0, 1e-6, false));
    }

    @Test
    void adagradMaximize() {
        run("Adagrad(lr=0.1, weight_decay=0.05, maximize=True)", dense(),
                p -> new Adagrad(p, new AdagradOptions(0.1).weightDecay(0.05).maximize(true)),
                w -> LibtorchTraining.Trainer.adagrad(w, -1, false, 0.1, 0, 0.05, 0, 1e-10), true,
                () -> new PyAdagrad(0.1, 0, 0.05, 0, 1e-10, true),
                () -> new PyAdagrad(0.1, 0, 0.05, 0, 1e-10, false));
    }

    @Test
    void adagradSparse() {
        run("Adagrad(lr=0.1, lr_decay=0.02, initial_accumulator_value=0.05), sparse, padding_idx=7",
                sparse().padding(7),
                p -> new Adagrad(p, new AdagradOptions(0.1).lrDecay(0.02).initialAccumulatorValue(0.05)),
                w -> LibtorchTraining.Trainer.adagrad(w, 7, true, 0.1, 0.02, 0, 0.05, 1e-10), false, null, null);
    }

    @Test
    void adagradSparseMaximize() {
        run("Adagrad(lr=0.1, maximize=True), sparse", sparse(),
                p -> new Adagrad(p, new AdagradOptions(0.1).maximize(true)),
                w -> LibtorchTraining.Trainer.adagrad(w, -1, true, 0.1, 0, 0, 0, 1e-10), true, null, null);
    }

    // ---- Adam ----------------------------------------------------------------------------------------------
    // torch::optim::Adam updates the first moment with exp_avg.mul_(beta1).add_(grad, 1 - beta1); Python's
    // torch/optim/adam.py with exp_avg.lerp_(grad, 1 - beta1). Same value, different rounding: PyAdam models both,
    // the C++ variant is held bit-identical to libtorch, jembed is compared with each.

    @Test
    void adamDefaultBetas() {
        assertArrayEquals(new double[] {0.9, 0.999}, sorted(LibtorchTraining.Trainer.adamBetas()),
                "torch::optim::AdamOptions' default betas");
        run("Adam(lr=0.01)", dense(),
                p -> new Adam(p, new AdamOptions(0.01)),
                w -> LibtorchTraining.Trainer.adam(w, -1, false, 0.01, 1e-8, 0), false,
                () -> new PyAdam(0.01, 0.9, 0.999, 1e-8, 0, false, false),
                () -> new PyAdam(0.01, 0.9, 0.999, 1e-8, 0, false, true));
    }

    @Test
    void adamWeightDecay() {
        run("Adam(lr=0.02, weight_decay=0.1)", dense(),
                p -> new Adam(p, new AdamOptions(0.02).weightDecay(0.1)),
                w -> LibtorchTraining.Trainer.adam(w, -1, false, 0.02, 1e-8, 0.1), false,
                () -> new PyAdam(0.02, 0.9, 0.999, 1e-8, 0.1, false, false),
                () -> new PyAdam(0.02, 0.9, 0.999, 1e-8, 0.1, false, true));
    }

    @Test
    void adamMaximize() {
        run("Adam(lr=0.01, eps=1e-6, weight_decay=0.05, maximize=True)", dense(),
                p -> new Adam(p, new AdamOptions(0.01).eps(1e-6).weightDecay(0.05).maximize(true)),
                w -> LibtorchTraining.Trainer.adam(w, -1, false, 0.01, 1e-6, 0.05), true,
                () -> new PyAdam(0.01, 0.9, 0.999, 1e-6, 0.05, true, false),
                () -> new PyAdam(0.01, 0.9, 0.999, 1e-6, 0.05, false, true));
    }

    // ---- SparseAdam (no libtorch C++ counterpart) ----------------------------------------------------------

    @Test
    void sparseAdam() {
        run("SparseAdam(lr=0.01)", sparse(),
                p -> new SparseAdam(p, new AdamOptions(0.01)), null, false,
                () -> new PySparseAdam(0.01, 0.9, 0.999, 1e-8, false), null);
    }

    @Test
    void sparseAdamBetasMaximizeAndAnAllPaddingStep() {
        run("SparseAdam(lr=0.02, betas=(0.8, 0.99), eps=1e-6, maximize=True), padding_idx=0, step 5 all padding",
                sparse().padding(0).allPaddingAt(5),
                p -> new SparseAdam(p, new AdamOptions(0.02).betas(0.8, 0.99).eps(1e-6).maximize(true)), null, false,
                () -> new PySparseAdam(0.02, 0.8, 0.99, 1e-6, true), null);
    }

    // ---- errors --------------------------------------------------------------------------------------------

    @Test
    void adamWithASparseGradientFailsLikePyTorch() {
        try (Embedding module = module(sparse(), 1);
             Adam adam = new Adam(module.parameters(), new AdamOptions(0.01));
             Tensor before = module.weight().clone()) {
            backward(module, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, adam::step);
            assertEquals("Adam does not support sparse gradients, please consider SparseAdam instead", e.getMessage());
            assertTrue(Torch.equal(before, module.weight()), "a failed step changes nothing");
            try (LibtorchTraining.Trainer theirs = LibtorchTraining.Trainer.adam(before, -1, true, 0.01, 1e-8, 0);
                 Tensor indices = batch(new SplittableRandom(1), -1, false);
                 Tensor upstream = upstream(new SplittableRandom(2))) {
                RuntimeException libtorch = assertThrows(RuntimeException.class,
                        () -> theirs.step(indices, upstream));
                // The C++ message stops before ", please consider SparseAdam instead" (commented out in adam.cpp).
                assertTrue(libtorch.getMessage().contains("Adam does not support sparse gradients"),
                        libtorch.getMessage());
            }
        }
    }

    @Test
    void sparseAdamWithADenseGradientFailsLikePyTorch() {
        try (Embedding module = module(dense(), 2);
             SparseAdam adam = new SparseAdam(module.parameters(), new AdamOptions(0.01));
             Tensor before = module.weight().clone()) {
            backward(module, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, adam::step);
            assertEquals("SparseAdam does not support dense gradients, please consider Adam instead", e.getMessage());
            assertTrue(Torch.equal(before, module.weight()), "a failed step changes nothing");
        }
    }

    @Test
    void adagradWithASparseGradientAndWeightDecayFailsLikePyTorch() {
        try (Embedding module = module(sparse(), 3);
             Adagrad adagrad = new Adagrad(module.parameters(), new AdagradOptions(0.1).weightDecay(0.01));
             Tensor before = module.weight().clone()) {
            backward(module, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, adagrad::step);
            assertEquals("weight_decay option is not compatible with sparse gradients", e.getMessage());
            assertTrue(Torch.equal(before, module.weight()), "a failed step changes nothing");
            try (LibtorchTraining.Trainer theirs = LibtorchTraining.Trainer.adagrad(before, -1, true, 0.1, 0, 0.01,
                         0, 1e-10);
                 Tensor indices = batch(new SplittableRandom(1), -1, false);
                 Tensor upstream = upstream(new SplittableRandom(2))) {
                RuntimeException libtorch = assertThrows(RuntimeException.class,
                        () -> theirs.step(indices, upstream));
                assertTrue(libtorch.getMessage().contains(e.getMessage()), libtorch.getMessage());
            }
        }
    }

    @Test
    void sgdWithASparseGradientAndWeightDecayFailsLikeLibtorch() {
        try (Embedding module = module(sparse(), 4);
             SGD sgd = new SGD(module.parameters(), new SGDOptions(0.1).weightDecay(0.01));
             Tensor before = module.weight().clone()) {
            backward(module, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, sgd::step);
            assertTrue(Torch.equal(before, module.weight()), "a failed step changes nothing");
            try (LibtorchTraining.Trainer theirs = LibtorchTraining.Trainer.sgd(before, -1, true, 0.1, 0, 0, 0.01,
                         false);
                 Tensor indices = batch(new SplittableRandom(1), -1, false);
                 Tensor upstream = upstream(new SplittableRandom(2))) {
                RuntimeException libtorch = assertThrows(RuntimeException.class,
                        () -> theirs.step(indices, upstream));
                String expected = "add(sparse, dense) is not supported. Use add(dense, sparse) instead.";
                assertTrue(libtorch.getMessage().contains(expected), libtorch.getMessage());
                assertTrue(e.getMessage().startsWith(expected), e.getMessage());
            }
        }
    }

    // ---- the trajectory ------------------------------------------------------------------------------------

    /** What a trajectory trains: dense or sparse gradients, an optional padding_idx, an optional all-padding step. */
    private static final class Setup {
        final boolean sparse;
        long paddingIdx = -1;
        int allPaddingStep = -1;

        Setup(boolean sparse) {
            this.sparse = sparse;
        }

        Setup padding(long row) {
            this.paddingIdx = row;
            return this;
        }

        Setup allPaddingAt(int step) {
            this.allPaddingStep = step;
            return this;
        }

        @Override
        public String toString() {
            return (sparse ? "sparse" : "dense") + (paddingIdx >= 0 ? ", padding_idx " + paddingIdx : "");
        }
    }

    private static Setup dense() {
        return new Setup(false);
    }

    private static Setup sparse() {
        return new Setup(true);
    }

    private static void run(String name, Setup setup, Function<List<Tensor>, Optimizer> ours,
                            Function<Tensor, LibtorchTraining.Trainer> theirs, boolean negateForLibtorch,
                            Supplier<Reference> python, Supplier<Reference> libtorchModel) {
        long base = Reproduce.baseSeed(FIXED_SEED);
        long seed = Reproduce.caseSeed(base, name.hashCode());
        String header = "[-D" + Reproduce.SEED_PROPERTY + "=" + base + ", trajectory seed " + seed + ", backend "
                + io.jembed.backend.Backends.current().name() + "] " + name + ", " + setup;
        Stats vsLibtorch = new Stats();
        Stats vsPython = new Stats();
        Stats modelVsLibtorch = new Stats();
        try (Embedding module = module(setup, seed);
             Optimizer optimizer = ours.apply(module.parameters());
             LibtorchTraining.Trainer libtorch = theirs == null ? null : theirs.apply(module.weight())) {
            Reference pythonRule = python == null ? null : python.get();
            double[] pythonWeight = python == null ? null : module.weight().toDoubleArray();
            Reference model = libtorchModel == null ? null : libtorchModel.get();
            double[] modelWeight = model == null ? null : module.weight().toDoubleArray();
            SplittableRandom random = new SplittableRandom(seed);
            for (int step = 1; step <= STEPS; step++) {
                boolean allPadding = step == setup.allPaddingStep;
                try (Tensor indices = batch(random, setup.paddingIdx, allPadding);
                     Tensor upstream = upstream(random)) {
                    optimizer.zeroGrad();
                    try (Tensor out = module.forward(indices)) {
                        out.backward(upstream);
                    }
                    optimizer.step();
                    String at = header + ", after step " + step;
                    double[] ourWeight = module.weight().toDoubleArray();
                    long[] rows = indices.toLongArray();
                    double[] gradOut = upstream.toDoubleArray();
                    if (libtorch != null) {
                        try (Tensor negated = negateForLibtorch ? negate(upstream) : null) {
                            libtorch.step(indices, negateForLibtorch ? negated : upstream);
                        }
                        double[] theirWeight;
                        try (Tensor weight = libtorch.weight()) {
                            theirWeight = weight.toDoubleArray();
                        }
                        vsLibtorch.compare(theirWeight, ourWeight, TOLERANCE, at + ": jembed vs libtorch C++");
                        if (model != null) {
                            model.step(modelWeight, rows, negateForLibtorch ? negate(gradOut) : gradOut, setup);
                            modelVsLibtorch.compare(theirWeight, modelWeight, 0.0, at + ": the model of libtorch's "
                                    + "C++ rule vs libtorch (the reference itself is off)");
                        }
                    }
                    if (pythonRule != null) {
                        pythonRule.step(pythonWeight, rows, gradOut, setup);
                        vsPython.compare(pythonWeight, ourWeight, setup.sparse ? 0.0 : TOLERANCE,
                                at + ": jembed vs the Python rule");
                    }
                }
            }
        }
        String evidence = "vs libtorch " + vsLibtorch + "; vs Python rule " + vsPython + "; libtorch model vs "
                + "libtorch " + modelVsLibtorch;
        System.out.println(io.jembed.backend.Backends.current().name() + " " + name + " (" + setup + "): "
                + evidence);
    }

    /**
     * Largest difference over every element and step, scaled by {@code max(|expected|, 1)} (the weights are O(1):
     * N(0, 1) initial values, updates of a few tenths; near-zero elements would make a purely relative measure
     * meaningless), and largest distance in ulps.
     */
    private static final class Stats {
        int comparisons;
        double maxScaled;
        long maxUlps;

        void compare(double[] expected, double[] actual, double tolerance, String what) {
            comparisons++;
            for (int e = 0; e < expected.length; e++) {
                if (Double.doubleToRawLongBits(expected[e]) == Double.doubleToRawLongBits(actual[e])) {
                    continue;
                }
                double scaled = Math.abs(expected[e] - actual[e]) / Math.max(Math.abs(expected[e]), 1.0);
                maxScaled = Math.max(maxScaled, scaled);
                maxUlps = Math.max(maxUlps, ulps(expected[e], actual[e]));
                if (!(scaled <= tolerance)) {
                    fail(what + ": element " + e + " (row " + e / DIM + ") expected " + expected[e] + " but got "
                            + actual[e] + ": |difference| / max(|expected|, 1) = " + scaled + " > " + tolerance
                            + " (" + ulps(expected[e], actual[e]) + " ulps)");
                }
            }
        }

        @Override
        public String toString() {
            return comparisons == 0 ? "-" : maxScaled == 0 ? "bit-identical" : "max " + maxScaled + " (" + maxUlps
                    + " ulps)";
        }
    }

    private static long ulps(double a, double b) {
        long x = Double.doubleToLongBits(a);
        long y = Double.doubleToLongBits(b);
        x = x < 0 ? Long.MIN_VALUE - x : x;
        y = y < 0 ? Long.MIN_VALUE - y : y;
        return Math.abs(x - y);
    }

    private static Embedding module(Setup setup, long seed) {
        EmbeddingOptions options = new EmbeddingOptions(ROWS, DIM).dtype(DType.FLOAT64).sparse(setup.sparse)
                .generator(new Generator(seed));
        if (setup.paddingIdx >= 0) {
            options.paddingIdx(setup.paddingIdx);
        }
        return new Embedding(options);
    }

    /** One forward and backward of a random batch into the module's weight. */
    private static void backward(Embedding module, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        try (Tensor indices = batch(random, -1, false);
             Tensor upstream = upstream(random);
             Tensor out = module.forward(indices)) {
            out.backward(upstream);
        }
    }

    /** (4, 6) int64 indices: half from five hot rows (so rows repeat within a batch), half uniform. */
    private static Tensor batch(SplittableRandom random, long paddingIdx, boolean allPadding) {
        long[] indices = new long[Math.toIntExact(BATCH[0] * BATCH[1])];
        long[] hot = {random.nextInt(ROWS), random.nextInt(ROWS), random.nextInt(ROWS), random.nextInt(ROWS),
            paddingIdx >= 0 ? paddingIdx : random.nextInt(ROWS)};
        for (int i = 0; i < indices.length; i++) {
            indices[i] = allPadding ? paddingIdx : random.nextBoolean() ? hot[random.nextInt(hot.length)]
                    : random.nextInt(ROWS);
        }
        return Torch.tensor(indices, BATCH);
    }

    private static Tensor upstream(SplittableRandom random) {
        double[] values = new double[Math.toIntExact(BATCH[0] * BATCH[1] * DIM)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian();
        }
        return Torch.tensor(values, BATCH[0], BATCH[1], DIM);
    }

    private static Tensor negate(Tensor t) {
        return Torch.tensor(negate(t.toDoubleArray()), t.shape());
    }

    private static double[] negate(double[] values) {
        double[] negated = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            negated[i] = -values[i];
        }
        return negated;
    }

    private static double[] sorted(double[] values) {
        double[] copy = values.clone();
        Arrays.sort(copy);
        return copy;
    }

    // ---- PyTorch's Python update rules on plain arrays -----------------------------------------------------

    /**
     * One optimizer's Python update rule ({@code torch/optim/*.py}, single-tensor path, which PyTorch takes for CPU
     * tensors), applied to a {@code double[]} weight. The gradient is rebuilt from the batch: dense, the upstream rows
     * added into zeros in input order (PyTorch's {@code embedding_dense_backward}); sparse, the input-order entries
     * without padding, coalesced by adding repeated rows in entry order.
     *
     * <p>Elementwise tensor ops are modelled as PyTorch's CPU kernels compute them: {@code a.add(b, alpha=s)} and
     * {@code add_} are a fused multiply-add ({@code ufunc::add} on vectors is {@code vec::fmadd(b, s, a)}),
     * {@code lerp_} with a weight below 0.5 is {@code fma(w, end - self, self)}, {@code addcmul_} is
     * {@code self + value * t1 * t2} and {@code addcdiv_} is {@code self + value * t1 / t2}, left to right.
     */
    private interface Reference {
        void step(double[] weight, long[] indices, double[] upstream, Setup setup);
    }

    private static double[] denseGrad(long[] indices, double[] upstream, long paddingIdx) {
        double[] grad = new double[ROWS * DIM];
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] == paddingIdx) {
                continue;
            }
            int r = (int) indices[i];
            for (int j = 0; j < DIM; j++) {
                grad[r * DIM + j] += upstream[i * DIM + j];
            }
        }
        return grad;
    }

    /** torch/optim/sgd.py, _single_tensor_sgd. */
    private static final class PySgd implements Reference {
        final double lr;
        final double momentum;
        final double dampening;
        final double weightDecay;
        final boolean nesterov;
        final boolean maximize;
        double[] buf;

        PySgd(double lr, double momentum, double dampening, double weightDecay, boolean nesterov, boolean maximize) {
            this.lr = lr;
            this.momentum = momentum;
            this.dampening = dampening;
            this.weightDecay = weightDecay;
            this.nesterov = nesterov;
            this.maximize = maximize;
        }

        @Override
        public void step(double[] p, long[] indices, double[] upstream, Setup setup) {
            double[] grad = denseGrad(indices, upstream, setup.paddingIdx);
            boolean first = buf == null;
            if (momentum != 0 && first) {
                buf = new double[p.length];
            }
            for (int e = 0; e < p.length; e++) {
                double g = maximize ? -grad[e] : grad[e];
                if (weightDecay != 0) {
                    g = Math.fma(p[e], weightDecay, g); // grad = grad.add(param, alpha=weight_decay)
                }
                if (momentum != 0) {
                    // buf = grad.detach().clone(), later buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    buf[e] = first ? g : Math.fma(g, 1 - dampening, buf[e] * momentum);
                    g = nesterov ? Math.fma(buf[e], momentum, g) : buf[e]; // grad.add(buf, alpha=momentum)
                }
                p[e] = Math.fma(g, -lr, p[e]); // param.add_(grad, alpha=-lr)
            }
        }
    }

    /** torch/optim/adagrad.py, _single_tensor_adagrad (dense gradients). */
    private static final class PyAdagrad implements Reference {
        final double lr;
        final double lrDecay;
        final double weightDecay;
        final double initialAccumulatorValue;
        final double eps;
        final boolean maximize;
        double[] sum;
        long step;

        PyAdagrad(double lr, double lrDecay, double weightDecay, double initialAccumulatorValue, double eps,
                  boolean maximize) {
            this.lr = lr;
            this.lrDecay = lrDecay;
            this.weightDecay = weightDecay;
            this.initialAccumulatorValue = initialAccumulatorValue;
            this.eps = eps;
            this.maximize = maximize;
        }

        @Override
        public void step(double[] p, long[] indices, double[] upstream, Setup setup) {
            double[] grad = denseGrad(indices, upstream, setup.paddingIdx);
            if (sum == null) {
                sum = new double[p.length];
                Arrays.fill(sum, initialAccumulatorValue); // torch.full_like(p, initial_accumulator_value)
            }
            step++;
            double clr = lr / (1 + (step - 1) * lrDecay);
            for (int e = 0; e < p.length; e++) {
                double g = maximize ? -grad[e] : grad[e];
                if (weightDecay != 0) {
                    g = Math.fma(p[e], weightDecay, g); // grad = grad.add(param, alpha=weight_decay)
                }
                sum[e] = Math.fma(1.0 * g, g, sum[e]); // state_sum.addcmul_(grad, grad, value=1)
                double std = Math.sqrt(sum[e]) + eps; // state_sum.sqrt().add_(eps)
                p[e] = p[e] + -clr * g / std; // param.addcdiv_(grad, std, value=-clr)
            }
        }
    }

    /** torch/optim/adam.py, _single_tensor_adam (amsgrad off, not capturable). */
    private static final class PyAdam implements Reference {
        final double lr;
        final double beta1;
        final double beta2;
        final double eps;
        final double weightDecay;
        final boolean maximize;
        final boolean cppMoments;
        double[] expAvg;
        double[] expAvgSq;
        long step;

        PyAdam(double lr, double beta1, double beta2, double eps, double weightDecay, boolean maximize,
               boolean cppMoments) {
            this.lr = lr;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
            this.weightDecay = weightDecay;
            this.maximize = maximize;
            this.cppMoments = cppMoments;
        }

        @Override
        public void step(double[] p, long[] indices, double[] upstream, Setup setup) {
            double[] grad = denseGrad(indices, upstream, setup.paddingIdx);
            if (expAvg == null) {
                expAvg = new double[p.length];
                expAvgSq = new double[p.length];
            }
            step++;
            double weight = 1 - beta1;
            double biasCorrection1 = 1 - Math.pow(beta1, step);
            double biasCorrection2 = 1 - Math.pow(beta2, step);
            double stepSize = lr / biasCorrection1;
            double biasCorrection2Sqrt = Math.sqrt(biasCorrection2); // bias_correction2 ** 0.5
            for (int e = 0; e < p.length; e++) {
                double g = maximize ? -grad[e] : grad[e];
                if (weightDecay != 0) {
                    g = Math.fma(p[e], weightDecay, g); // grad = grad.add(param, alpha=weight_decay)
                }
                // exp_avg.lerp_(grad, 1 - beta1): weight < 0.5, so self + weight * (end - self), fused
                expAvg[e] = cppMoments ? Math.fma(g, 1 - beta1, expAvg[e] * beta1) : Math.abs(weight) < 0.5 ? Math.fma(weight, g - expAvg[e], expAvg[e])
                        : Math.fma(weight - 1, g - expAvg[e], g);
                // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                expAvgSq[e] = Math.fma((1 - beta2) * g, g, expAvgSq[e] * beta2);
                double denom = Math.sqrt(expAvgSq[e]) / biasCorrection2Sqrt + eps;
                p[e] = p[e] + -stepSize * expAvg[e] / denom; // param.addcdiv_(exp_avg, denom, value=-step_size)
            }
        }
    }

    /** torch/optim/_functional.py, sparse_adam (with SparseAdam.step's per-parameter step count). */
    private static final class PySparseAdam implements Reference {
        final double lr;
        final double beta1;
        final double beta2;
        final double eps;
        final boolean maximize;
        double[] expAvg;
        double[] expAvgSq;
        long step;

        PySparseAdam(double lr, double beta1, double beta2, double eps, boolean maximize) {
            this.lr = lr;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
            this.maximize = maximize;
        }

        @Override
        public void step(double[] p, long[] indices, double[] upstream, Setup setup) {
            if (expAvg == null) {
                expAvg = new double[p.length];
                expAvgSq = new double[p.length];
            }
            step++; // state["step"] += 1 for every parameter with a gradient, even an empty one
            // grad = grad if not maximize else -grad; grad = grad.coalesce(): rows sorted, repeats added in order
            TreeMap<Long, double[]> coalesced = new TreeMap<>();
            for (int i = 0; i < indices.length; i++) {
                if (indices[i] == setup.paddingIdx) {
                    continue; // embedding_sparse_backward drops the padding entries
                }
                double[] row = coalesced.get(indices[i]);
                boolean fresh = row == null;
                if (fresh) {
                    row = new double[DIM];
                    coalesced.put(indices[i], row);
                }
                for (int j = 0; j < DIM; j++) {
                    double g = maximize ? -upstream[i * DIM + j] : upstream[i * DIM + j];
                    row[j] = fresh ? g : row[j] + g;
                }
            }
            if (coalesced.isEmpty()) {
                return; // if grad_values.numel() == 0: continue
            }
            double biasCorrection1 = 1 - Math.pow(beta1, step);
            double biasCorrection2 = 1 - Math.pow(beta2, step);
            double stepSize = lr * Math.sqrt(biasCorrection2) / biasCorrection1;
            for (var entry : coalesced.entrySet()) {
                int base = (int) (long) entry.getKey() * DIM;
                double[] g = entry.getValue();
                for (int j = 0; j < DIM; j++) {
                    double oldExpAvg = expAvg[base + j]; // exp_avg.sparse_mask(grad)._values()
                    double expAvgUpdate = (g[j] - oldExpAvg) * (1 - beta1);
                    expAvg[base + j] = expAvg[base + j] + expAvgUpdate; // exp_avg.add_(make_sparse(update))
                    double oldExpAvgSq = expAvgSq[base + j];
                    double expAvgSqUpdate = (g[j] * g[j] - oldExpAvgSq) * (1 - beta2); // pow(2).sub_().mul_()
                    expAvgSq[base + j] = expAvgSq[base + j] + expAvgSqUpdate;
                    double numer = expAvgUpdate + oldExpAvg; // exp_avg_update_values.add_(old_exp_avg_values)
                    double denom = Math.sqrt(expAvgSqUpdate + oldExpAvgSq) + eps;
                    p[base + j] = p[base + j] + -stepSize * (numer / denom); // param.add_(make_sparse(...))
                }
            }
        }
    }

}
