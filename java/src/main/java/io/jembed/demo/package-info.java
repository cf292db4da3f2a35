/**
 * The demo that {@code scripts/demo} runs: PyTorch's documentation examples, then lookups with each backend.
 */
package io.jembed.demo;
