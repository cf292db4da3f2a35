/**
 * Tensors and their factories: {@link io.jembed.Tensor} (PyTorch equivalent: {@code torch.Tensor}),
 * {@link io.jembed.Torch} ({@code torch.tensor}, {@code torch.zeros}, {@code torch.manual_seed}, ...),
 * {@link io.jembed.SparseTensor} (sparse COO gradients), {@link io.jembed.Generator} and {@link io.jembed.DType}.
 */
package io.jembed;
