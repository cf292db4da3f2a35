package io.jembed.nn.functional;

/**
 * The optional arguments of {@link F#embedding(io.jembed.Tensor, io.jembed.Tensor, EmbeddingFuncOptions)}, with
 * PyTorch's defaults (see {@link EmbeddingLookupOptions}).
 *
 * <p>PyTorch equivalent: the keyword arguments of {@code torch.nn.functional.embedding} (C++:
 * {@code torch::nn::functional::EmbeddingFuncOptions}).
 *
 * <p>Not thread-safe while being configured; safe to share once configured.
 */
public final class EmbeddingFuncOptions extends EmbeddingLookupOptions<EmbeddingFuncOptions> {
}
