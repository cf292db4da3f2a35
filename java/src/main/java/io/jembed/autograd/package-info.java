/**
 * The backward functions attached to outputs ({@code grad_fn} in PyTorch).
 */
package io.jembed.autograd;
