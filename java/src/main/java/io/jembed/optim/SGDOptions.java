package io.jembed.optim;

/**
 * The options of {@link SGD}, with PyTorch's defaults.
 *
 * <p>PyTorch equivalent: {@code torch.optim.SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
 * maximize=False)} (C++: {@code torch::optim::SGDOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class SGDOptions {
    private final double lr;
    private double momentum;
    private double dampening;
    private double weightDecay;
    private boolean nesterov;
    private boolean maximize;

    /** PyTorch's defaults with the learning rate {@code lr}. */
    public SGDOptions(double lr) {
        this.lr = lr;
    }

    /** Sets the momentum factor; returns this. PyTorch equivalent: {@code momentum}. */
    public SGDOptions momentum(double momentum) {
        this.momentum = momentum;
        return this;
    }

    /** Sets the dampening for momentum; returns this. PyTorch equivalent: {@code dampening}. */
    public SGDOptions dampening(double dampening) {
        this.dampening = dampening;
        return this;
    }

    /** Sets the L2 penalty; returns this. PyTorch equivalent: {@code weight_decay}. */
    public SGDOptions weightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
        return this;
    }

    /** Sets whether to use Nesterov momentum; returns this. PyTorch equivalent: {@code nesterov}. */
    public SGDOptions nesterov(boolean nesterov) {
        this.nesterov = nesterov;
        return this;
    }

    /** Sets whether to maximise instead of minimise; returns this. PyTorch equivalent: {@code maximize}. */
    public SGDOptions maximize(boolean maximize) {
        this.maximize = maximize;
        return this;
    }

    /** The learning rate. PyTorch equivalent: {@code lr}. */
    public double lr() {
        return lr;
    }

    /** The momentum factor. PyTorch equivalent: {@code momentum}. */
    public double momentum() {
        return momentum;
    }

    /** The dampening for momentum. PyTorch equivalent: {@code dampening}. */
    public double dampening() {
        return dampening;
    }

    /** The L2 penalty. PyTorch equivalent: {@code weight_decay}. */
    public double weightDecay() {
        return weightDecay;
    }

    /** Whether Nesterov momentum is used. PyTorch equivalent: {@code nesterov}. */
    public boolean nesterov() {
        return nesterov;
    }

    /** Whether to maximise instead of minimise. PyTorch equivalent: {@code maximize}. */
    public boolean maximize() {
        return maximize;
    }
}
