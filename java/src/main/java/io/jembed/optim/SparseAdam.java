package io.jembed.optim;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
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
        Elements m = new Elements(moments.get(0));
        Elements v = new Elements(moments.get(1));
        Elements p = new Elements(param);
        double b1 = options.beta1();
        double b2 = options.beta2();
        double stepSize = options.lr() * Math.sqrt(1 - Math.pow(b2, step)) / (1 - Math.pow(b1, step));
        long width = width(param);
        try (SparseTensor unique = grad.coalesce()) {
            Elements values = new Elements(unique.values());
            long[] rows = unique.indices().toLongArray();
            for (int k = 0; k < rows.length; k++) {
                for (long j = 0; j < width; j++) {
                    long at = rows[k] * width + j;
                    double g = values.get(k * width + j);
                    g = options.maximize() ? -g : g;
                    double oldM = m.get(at);
                    double updateM = (g - oldM) * (1 - b1);
                    m.set(at, oldM + updateM);
                    double oldV = v.get(at);
                    double updateV = (g * g - oldV) * (1 - b2);
                    v.set(at, oldV + updateV);
                    double numer = updateM + oldM;
                    double denom = Math.sqrt(updateV + oldV) + options.eps();
                    p.set(at, p.get(at) - stepSize * (numer / denom));
                }
            }
        }
    }
}
