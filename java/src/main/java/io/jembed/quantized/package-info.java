/**
 * Row-wise quantized embedding tables in PyTorch's prepacked layouts (8-bit rows: bytes, then float32 scale and
 * bias; 4-bit rows: two codes a byte, then float16 scale and bias), with lookups that dequantize on the fly into
 * float32, bit for bit as libtorch's quantized operators: {@link io.jembed.quantized.QuantizedTable}
 * ({@code embedding_bag_byte_prepack}, {@code embedding_bag_4bit_prepack} and their {@code unpack}),
 * {@link io.jembed.quantized.QuantizedOps} ({@code quantized::embedding_byte}, {@code embedding_4bit},
 * {@code embedding_bag_byte_rowwise_offsets}, {@code embedding_bag_4bit_rowwise_offsets}), and the modules
 * {@link io.jembed.quantized.QuantizedEmbedding} and {@link io.jembed.quantized.QuantizedEmbeddingBag}
 * ({@code torch.ao.nn.quantized.Embedding} / {@code EmbeddingBag}).
 */
package io.jembed.quantized;
