package io.jembed.autograd;

import io.jembed.Tensor;

/**
 * The backward function recorded on an operator's output: given the gradient of a loss with respect to that output,
 * it accumulates gradients into the leaf tensors the output came from.
 *
 * <p>PyTorch equivalent: {@code tensor.grad_fn} (a {@code torch.autograd.graph.Node}), e.g. {@code EmbeddingBackward0}.
 * jembed's graphs are one operator deep: an embedding's output leads straight to its weight.
 *
 * <p>Implementations serialise the accumulation into each leaf, so backward passes from several threads into one
 * weight are safe (their order, and so the float rounding of the sum, is not fixed).
 */
public interface GradFn {
    /** PyTorch's node name, e.g. {@code EmbeddingBackward0}. */
    String name();

    /**
     * Accumulates the gradients implied by {@code gradOutput} (shaped like the output) into the leaves.
     *
     * @throws IllegalArgumentException if {@code gradOutput} has the wrong shape or dtype
     */
    void apply(Tensor gradOutput);
}
