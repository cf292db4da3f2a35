package io.jembed.optim;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.backend.Backends;
import java.util.List;

/**
 * Adam for sparse gradients: the moments and the parameter change only in the rows of the (coalesced) gradient.
 *
 * <p>PyTorch equivalent: {@code torch.optim.SparseAdam} ({@code torch/optim/_functional.py}'s {@code sparse_adam}):
 * per row, {@code m += (1 - beta1)(g - m)}, {@code v += (1 - beta2)(g^2 - v)},
 * {@code p -= lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)}, with {@code t} counting this
 * parameter's steps. A dense gradient fails with PyTorch's message.
 *
 * <p>Not thread-safe (see {@link Optimizer}).
 */
public final class SparseAdam extends Optimizer {
    private final AdamOptions options;

    /** PyTorch equivalent: {@code torch.optim.SparseAdam(params, lr=..., betas=..., eps=...)}. */
    public SparseAdam(List<Tensor> params, AdamOptions options) {
        super(params);
        options.check();
        if (options.weightDecay() != 0) {
            throw new IllegalArgumentException("SparseAdam has no weight_decay, got " + options.weightDecay());
        }
        this.options = options;
    }

    @Override
    void stepDense(Tensor param, Tensor grad) {
        throw new IllegalArgumentException(
                "SparseAdam does not support dense gradients, please consider Adam instead");
    }

    @Override
    void stepSparse(Tensor param, SparseTensor grad) {
        List<Tensor> moments = state(param, 2, 0);
        long step = nextStep(param);
        if (grad.nnz() == 0) {
            return;
        }
        double b1 = options.beta1();
        double b2 = options.beta2();
        double stepSize = options.lr() * Math.sqrt(1 - Math.pow(b2, step)) / (1 - Math.pow(b1, step));
        try (SparseTensor unique = grad.coalesce()) {
            Backends.current().sparseAdam(param, moments.get(0), moments.get(1), unique, b1, b2, stepSize,
                    options.eps(), options.maximize());
        }
    }
}
