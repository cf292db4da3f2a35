/**
 * Optimizers, as in PyTorch's {@code torch.optim}: {@link io.jembed.optim.SGD}, {@link io.jembed.optim.Adagrad},
 * {@link io.jembed.optim.Adam} (dense gradients) and {@link io.jembed.optim.SparseAdam} (sparse gradients).
 */
package io.jembed.optim;
