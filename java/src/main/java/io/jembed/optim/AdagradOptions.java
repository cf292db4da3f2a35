package io.jembed.optim;

/**
 * The options of {@link Adagrad}, with PyTorch's defaults.
 *
 * <p>PyTorch equivalent: {@code torch.optim.Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0,
 * initial_accumulator_value=0, eps=1e-10, maximize=False)} (C++: {@code torch::optim::AdagradOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class AdagradOptions {
    private double lr = 0.01;
    private double lrDecay;
    private double weightDecay;
    private double initialAccumulatorValue;
    private double eps = 1e-10;
    private boolean maximize;

    public AdagradOptions() {}

    public AdagradOptions(double lr) {
        this.lr = lr;
    }

    public AdagradOptions lrDecay(double lrDecay) {
        this.lrDecay = lrDecay;
        return this;
    }

    public AdagradOptions weightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
        return this;
    }

    public AdagradOptions initialAccumulatorValue(double initialAccumulatorValue) {
        this.initialAccumulatorValue = initialAccumulatorValue;
        return this;
    }

    public AdagradOptions eps(double eps) {
        this.eps = eps;
        return this;
    }

    public AdagradOptions maximize(boolean maximize) {
        this.maximize = maximize;
        return this;
    }

    public double lr() {
        return lr;
    }

    public double lrDecay() {
        return lrDecay;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public double initialAccumulatorValue() {
        return initialAccumulatorValue;
    }

    public double eps() {
        return eps;
    }

    public boolean maximize() {
        return maximize;
    }
}
