package io.jembed.optim;

import io.jembed.SparseTensor;
import io.jembed.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent, with momentum, dampening, weight decay, Nesterov momentum and maximisation.
 *
 * <p>PyTorch equivalent: {@code torch.optim.SGD}. Sparse gradients are taken as PyTorch takes them: without weight
 * decay (PyTorch fails adding a dense parameter to a sparse gradient), updating only the rows in the gradient when
 * there is no momentum. With momentum the buffer is sparse too and, like PyTorch's, keeps every row it has seen.
 *
 * <p>Not thread-safe (see {@link Optimizer}).
 */
public final class SGD extends Optimizer {
    private final SGDOptions options;
    private final java.util.Map<Tensor, SparseTensor> sparseMomentum = new java.util.IdentityHashMap<>();

    /** PyTorch equivalent: {@code torch.optim.SGD(params, lr=..., momentum=..., ...)}. */
    public SGD(List<Tensor> params, SGDOptions options) {
        super(params);
        checkNonNegative("learning rate", options.lr());
        checkNonNegative("momentum value", options.momentum());
        checkNonNegative("weight_decay value", options.weightDecay());
        if (options.nesterov() && (options.momentum() <= 0 || options.dampening() != 0)) {
            throw new IllegalArgumentException("Nesterov momentum requires a momentum and zero dampening");
        }
        this.options = options;
    }

    @Override
    void stepDense(Tensor param, Tensor grad) {
        double lr = options.lr();
        double momentum = options.momentum();
        boolean first = momentum != 0 && !hasState(param);
        Elements p = new Elements(param);
        Elements g = new Elements(grad);
        Elements buf = momentum != 0 ? new Elements(state(param, 1, 0).get(0)) : null;
        for (long i = 0; i < param.numel(); i++) {
            double d = options.maximize() ? -g.get(i) : g.get(i);
            if (options.weightDecay() != 0) {
                d = round(param, d + options.weightDecay() * p.get(i));
            }
            if (buf != null) {
                double b = first ? d : round(param, momentum * buf.get(i)) + (1 - options.dampening()) * d;
                buf.set(i, b);
                b = buf.get(i);
                d = options.nesterov() ? round(param, d + momentum * b) : b;
            }
            p.set(i, p.get(i) - lr * d);
        }
    }

    @Override
    void stepSparse(Tensor param, SparseTensor grad) {
        if (options.weightDecay() != 0) {
            throw new IllegalArgumentException("add(sparse, dense) is not supported. Use add(dense, sparse) instead. "
                    + "(SGD's weight_decay needs dense gradients)");
        }
        double sign = options.maximize() ? -1 : 1;
        double momentum = options.momentum();
        if (momentum == 0) {
            SparseUpdates.addScaled(param, grad, -options.lr() * sign);
            return;
        }
        SparseTensor previous = sparseMomentum.get(param);
        SparseTensor buffer = previous == null
                ? SparseUpdates.scaled(grad, sign)
                : SparseUpdates.combine(previous, momentum, grad, (1 - options.dampening()) * sign);
        if (previous != null) {
            previous.close();
        }
        sparseMomentum.put(param, buffer);
        if (options.nesterov()) {
            try (SparseTensor step = SparseUpdates.combine(grad, sign, buffer, momentum)) {
                SparseUpdates.addScaled(param, step, -options.lr());
            }
        } else {
            SparseUpdates.addScaled(param, buffer, -options.lr());
        }
    }

    private static double round(Tensor like, double value) {
        return like.dtype() == io.jembed.DType.FLOAT32 ? (float) value : value;
    }

    @Override
    public void close() {
        sparseMomentum.values().forEach(SparseTensor::close);
        sparseMomentum.clear();
        super.close();
    }
}
