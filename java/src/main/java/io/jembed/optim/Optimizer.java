package io.jembed.optim;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.EmbeddingChecks;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.MemoryGuard;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The base of jembed's optimizers: a list of parameters, per-parameter state, {@link #step()} and
 * {@link #zeroGrad()}.
 *
 * <p>PyTorch equivalent: {@code torch.optim.Optimizer}. Each subclass follows its PyTorch counterpart's
 * single-tensor update rule ({@code torch/optim/*.py}) step for step, computing in double and storing in the
 * parameter's dtype. Parameters without a gradient are skipped, as in PyTorch.
 *
 * <p>Owns its state tensors ({@link #close()} frees them). Not thread-safe: one thread steps an optimizer, and no
 * backward pass may run into its parameters during {@code step()}. Closing is safe at any time, though: a parameter
 * (or its gradient) closed by another thread during {@code step()} is freed after the step, and {@code close()} of
 * the optimizer waits for a running {@code step()}.
 */
public abstract class Optimizer implements AutoCloseable {
    private final List<Tensor> params;
    private final Map<Tensor, List<Tensor>> state = new IdentityHashMap<>();
    private final Map<Tensor, long[]> steps = new IdentityHashMap<>();

    Optimizer(List<Tensor> params) {
        if (params == null || params.isEmpty()) {
            throw new IllegalArgumentException("optimizer got an empty parameter list");
        }
        for (Tensor p : params) {
            if (p == null || !p.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("optimizers take floating-point tensors, got "
                        + (p == null ? "null" : p.dtype()));
            }
            EmbeddingChecks.checkNotReducedPrecision(p, "an optimizer step");
            // A step writes every parameter: refuse read-only (memory-mapped) tables now, not part way through.
            TensorInternals.memory(p).checkWritable();
        }
        this.params = List.copyOf(params);
    }

    /** PyTorch equivalent: {@code optimizer.step()}. */
    public synchronized void step() {
        for (Tensor p : params) {
            SparseTensor sparse = p.sparseGrad();
            // The parameter and its gradient are held while the step reads and writes them: a concurrent close()
            // of either waits for the step (or, if it came first, the step fails with IllegalStateException). The
            // state is the optimizer's own, and close() takes the same lock as step().
            if (sparse != null) {
                MemoryGuard guard = TensorInternals.guard(p, sparse.indices(), sparse.values());
                try {
                    stepSparse(p, sparse);
                } finally {
                    guard.exit();
                }
            } else {
                Tensor dense = p.grad();
                if (dense != null) {
                    MemoryGuard guard = TensorInternals.guard(p, dense);
                    try {
                        stepDense(p, dense);
                    } finally {
                        guard.exit();
                    }
                }
            }
        }
    }

    abstract void stepDense(Tensor param, Tensor grad);

    abstract void stepSparse(Tensor param, SparseTensor grad);

    /** PyTorch equivalent: {@code optimizer.zero_grad()}: forgets every parameter's gradient. */
    public void zeroGrad() {
        for (Tensor p : params) {
            p.zeroGrad();
        }
    }

    /** The parameters this optimizer updates. PyTorch equivalent: {@code optimizer.param_groups[0]["params"]}. */
    public List<Tensor> params() {
        return params;
    }

    /**
     * The state tensors of {@code param} (created on first use by {@code init}, each of the parameter's shape and
     * dtype, filled with {@code fill}), e.g. momentum buffers.
     */
    List<Tensor> state(Tensor param, int count, double fill) {
        return state.computeIfAbsent(param, p -> {
            List<Tensor> tensors = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                tensors.add(Torch.full(p.dtype(), fill, p.shape()));
            }
            return tensors;
        });
    }

    /** Counts one more step of {@code param} and returns the count (PyTorch's {@code state["step"]}). */
    long nextStep(Tensor param) {
        return ++steps.computeIfAbsent(param, p -> new long[1])[0];
    }

    boolean hasState(Tensor param) {
        return state.containsKey(param);
    }

    /** Frees the optimizer's state. */
    @Override
    public synchronized void close() {
        for (List<Tensor> tensors : state.values()) {
            tensors.forEach(Tensor::close);
        }
        state.clear();
    }

    static void checkNonNegative(String what, double value) {
        if (!(value >= 0.0)) {
            throw new IllegalArgumentException("Invalid " + what + ": " + value);
        }
    }

    static void checkBeta(int index, double beta) {
        if (!(beta >= 0.0 && beta < 1.0)) {
            throw new IllegalArgumentException("Invalid beta parameter at index " + index + ": " + beta);
        }
    }
}
