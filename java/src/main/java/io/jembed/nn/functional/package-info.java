/**
 * Functions, as in PyTorch's {@code torch.nn.functional}: {@link io.jembed.nn.functional.F}.
 */
package io.jembed.nn.functional;
