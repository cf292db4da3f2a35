/**
 * Modules, as in PyTorch's {@code torch.nn}: {@link io.jembed.nn.Embedding} and its options.
 */
package io.jembed.nn;
