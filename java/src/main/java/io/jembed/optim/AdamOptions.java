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

    public AdamOptions() {}

    public AdamOptions(double lr) {
        this.lr = lr;
    }

    public AdamOptions betas(double beta1, double beta2) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        return this;
    }

    public AdamOptions eps(double eps) {
        this.eps = eps;
        return this;
    }

    /** Adam only: SparseAdam has no weight decay. */
    public AdamOptions weightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
        return this;
    }

    public AdamOptions maximize(boolean maximize) {
        this.maximize = maximize;
        return this;
    }

    public double lr() {
        return lr;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

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
