package io.jembed.optim;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import java.util.List;

/**
 * Adam, for dense gradients.
 *
 * <p>PyTorch equivalent: {@code torch.optim.Adam} (amsgrad off): {@code m.lerp_(g, 1 - beta1)},
 * {@code v = beta2 v + (1 - beta2) g^2}, {@code p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)}.
 * A sparse gradient fails with PyTorch's message.
 *
 * <p>Not thread-safe (see {@link Optimizer}).
 */
public final class Adam extends Optimizer {
    private final AdamOptions options;

    /** PyTorch equivalent: {@code torch.optim.Adam(params, lr=..., betas=..., eps=..., weight_decay=...)}. */
    public Adam(List<Tensor> params, AdamOptions options) {
        super(params);
        options.check();
        this.options = options;
    }

    @Override
    void stepDense(Tensor param, Tensor grad) {
        List<Tensor> moments = state(param, 2, 0);
        Elements m = new Elements(moments.get(0));
        Elements v = new Elements(moments.get(1));
        long step = nextStep(param);
        double b1 = options.beta1();
        double b2 = options.beta2();
        double stepSize = options.lr() / (1 - Math.pow(b1, step));
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        Elements p = new Elements(param);
        Elements g = new Elements(grad);
        for (long i = 0; i < param.numel(); i++) {
            double d = options.maximize() ? -g.get(i) : g.get(i);
            if (options.weightDecay() != 0) {
                d = d + options.weightDecay() * p.get(i);
            }
            m.set(i, m.get(i) + (1 - b1) * (d - m.get(i)));
            v.set(i, b2 * v.get(i) + (1 - b2) * d * d);
            double denom = Math.sqrt(v.get(i)) / biasCorrection2Sqrt + options.eps();
            p.set(i, p.get(i) - stepSize * m.get(i) / denom);
        }
    }

    @Override
    void stepSparse(Tensor param, SparseTensor grad) {
        throw new IllegalArgumentException("Adam does not support sparse gradients, please consider SparseAdam instead");
    }
}
