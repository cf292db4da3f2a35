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

    public SGDOptions(double lr) {
        this.lr = lr;
    }

    public SGDOptions momentum(double momentum) {
        this.momentum = momentum;
        return this;
    }

    public SGDOptions dampening(double dampening) {
        this.dampening = dampening;
        return this;
    }

    public SGDOptions weightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
        return this;
    }

    public SGDOptions nesterov(boolean nesterov) {
        this.nesterov = nesterov;
        return this;
    }

    public SGDOptions maximize(boolean maximize) {
        this.maximize = maximize;
        return this;
    }

    public double lr() {
        return lr;
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public boolean maximize() {
        return maximize;
    }
}
