package io.jembed.optim;

/**
 * The options of {@link Adam} and {@link SparseAdam}, with PyTorch's defaults (lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8; weight decay for Adam only).
 *
 * <p>PyTorch equivalent: the arguments of {@code torch.optim.Adam} / {@code torch.optim.SparseAdam} (C++:
 * {@code torch::optim::AdamOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class AdamOptions {
    private double lr = 1e-3;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay;
    private boolean maximize;

    /** PyTorch's defaults (lr 1e-3). */
    public AdamOptions() {}

    /** PyTorch's defaults with the learning rate {@code lr}. */
    public AdamOptions(double lr) {
        this.lr = lr;
    }

    /**
     * Sets the coefficients of the running averages of the gradient and its square; returns this. PyTorch equivalent:
     * {@code betas}.
     */
    public AdamOptions betas(double beta1, double beta2) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        return this;
    }

    /** Sets the term added to the denominator; returns this. PyTorch equivalent: {@code eps}. */
    public AdamOptions eps(double eps) {
        this.eps = eps;
        return this;
    }

    /** Adam only: SparseAdam has no weight decay. */
    public AdamOptions weightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
        return this;
    }

    /** Sets whether to maximise instead of minimise; returns this. PyTorch equivalent: {@code maximize}. */
    public AdamOptions maximize(boolean maximize) {
        this.maximize = maximize;
        return this;
    }

    /** The learning rate. PyTorch equivalent: {@code lr}. */
    public double lr() {
        return lr;
    }

    /** The coefficient of the gradient's running average. PyTorch equivalent: {@code betas[0]}. */
    public double beta1() {
        return beta1;
    }

    /** The coefficient of the squared gradient's running average. PyTorch equivalent: {@code betas[1]}. */
    public double beta2() {
        return beta2;
    }

    /** The term added to the denominator. PyTorch equivalent: {@code eps}. */
    public double eps() {
        return eps;
    }

    /** The L2 penalty (Adam only). PyTorch equivalent: {@code weight_decay}. */
    public double weightDecay() {
        return weightDecay;
    }

    /** Whether to maximise instead of minimise. PyTorch equivalent: {@code maximize}. */
    public boolean maximize() {
        return maximize;
    }

    void check() {
        Optimizer.checkNonNegative("learning rate", lr);
        Optimizer.checkNonNegative("epsilon value", eps);
        Optimizer.checkBeta(0, beta1);
        Optimizer.checkBeta(1, beta2);
        Optimizer.checkNonNegative("weight_decay value", weightDecay);
    }
}
