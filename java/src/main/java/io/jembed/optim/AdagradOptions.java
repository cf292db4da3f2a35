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

    /** PyTorch's defaults (lr 0.01). */
    public AdagradOptions() {}

    /** PyTorch's defaults with the learning rate {@code lr}. */
    public AdagradOptions(double lr) {
        this.lr = lr;
    }

    /** Sets the learning-rate decay; returns this. PyTorch equivalent: {@code lr_decay}. */
    public AdagradOptions lrDecay(double lrDecay) {
        this.lrDecay = lrDecay;
        return this;
    }

    /** Sets the L2 penalty; returns this. PyTorch equivalent: {@code weight_decay}. */
    public AdagradOptions weightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
        return this;
    }

    /** Sets the initial sum of squares; returns this. PyTorch equivalent: {@code initial_accumulator_value}. */
    public AdagradOptions initialAccumulatorValue(double initialAccumulatorValue) {
        this.initialAccumulatorValue = initialAccumulatorValue;
        return this;
    }

    /** Sets the term added to the denominator; returns this. PyTorch equivalent: {@code eps}. */
    public AdagradOptions eps(double eps) {
        this.eps = eps;
        return this;
    }

    /** Sets whether to maximise instead of minimise; returns this. PyTorch equivalent: {@code maximize}. */
    public AdagradOptions maximize(boolean maximize) {
        this.maximize = maximize;
        return this;
    }

    /** The learning rate. PyTorch equivalent: {@code lr}. */
    public double lr() {
        return lr;
    }

    /** The learning-rate decay. PyTorch equivalent: {@code lr_decay}. */
    public double lrDecay() {
        return lrDecay;
    }

    /** The L2 penalty. PyTorch equivalent: {@code weight_decay}. */
    public double weightDecay() {
        return weightDecay;
    }

    /** The initial sum of squares. PyTorch equivalent: {@code initial_accumulator_value}. */
    public double initialAccumulatorValue() {
        return initialAccumulatorValue;
    }

    /** The term added to the denominator. PyTorch equivalent: {@code eps}. */
    public double eps() {
        return eps;
    }

    /** Whether to maximise instead of minimise. PyTorch equivalent: {@code maximize}. */
    public boolean maximize() {
        return maximize;
    }
}
