package io.jembed.optim;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.backend.Backends;
import java.util.List;

/**
 * Adagrad: each element's step is divided by the root of its accumulated squared gradients.
 *
 * <p>PyTorch equivalent: {@code torch.optim.Adagrad}. Sparse gradients are coalesced and update only their rows,
 * in the accumulator and in the parameter; weight decay with a sparse gradient fails as in PyTorch.
 *
 * <p>Not thread-safe (see {@link Optimizer}).
 */
public final class Adagrad extends Optimizer {
    private final AdagradOptions options;

    /** PyTorch equivalent: {@code torch.optim.Adagrad(params, lr=..., ...)}. */
    public Adagrad(List<Tensor> params, AdagradOptions options) {
        super(params);
        checkNonNegative("learning rate", options.lr());
        checkNonNegative("lr_decay value", options.lrDecay());
        checkNonNegative("weight_decay value", options.weightDecay());
        checkNonNegative("initial_accumulator_value value", options.initialAccumulatorValue());
        checkNonNegative("epsilon value", options.eps());
        this.options = options;
    }

    private double clr(long step) {
        return options.lr() / (1 + (step - 1) * options.lrDecay());
    }

    @Override
    void stepDense(Tensor param, Tensor grad) {
        Elements sum = new Elements(state(param, 1, options.initialAccumulatorValue()).get(0));
        double clr = clr(nextStep(param));
        Elements p = new Elements(param);
        Elements g = new Elements(grad);
        for (long i = 0; i < param.numel(); i++) {
            double d = options.maximize() ? -g.get(i) : g.get(i);
            if (options.weightDecay() != 0) {
                d = d + options.weightDecay() * p.get(i);
            }
            sum.set(i, sum.get(i) + d * d);
            double std = Math.sqrt(sum.get(i)) + options.eps();
            p.set(i, p.get(i) - clr * d / std);
        }
    }

    @Override
    void stepSparse(Tensor param, SparseTensor grad) {
        if (options.weightDecay() != 0) {
            throw new IllegalArgumentException("weight_decay option is not compatible with sparse gradients");
        }
        Tensor sum = state(param, 1, options.initialAccumulatorValue()).get(0);
        double clr = clr(nextStep(param));
        try (SparseTensor unique = grad.coalesce()) {
            Backends.current().sparseAdagrad(param, sum, unique, clr, options.eps(), options.maximize());
        }
    }
}
