package io.jembed.reference;

import io.jembed.Tensor;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * libtorch 2.10's quantized embedding operators, called by name through its dispatcher (they have no C++ API of
 * their own), on jembed tensors and prepacked bytes: every argument of the schema is pushed, defaults included (a
 * boxed call does not fill them in). Same conventions as {@link Libtorch}: copies in and out, bitwise, one
 * {@link PointerScope} per call, one intra-op thread, calls serialised on {@code Libtorch.class}.
 */
final class LibtorchQuantized {
    private LibtorchQuantized() {}

    /** A prepacked table: PyTorch's uint8 tensor of shape {@code (rows, cols)}, as bytes. */
    static final class Packed {
        final byte[] bytes;
        final long rows;
        final long cols;

        Packed(byte[] bytes, long rows, long cols) {
            this.bytes = bytes;
            this.rows = rows;
            this.cols = cols;
        }
    }

    /** {@code torch.ops.quantized.embedding_bag_byte_prepack(weight)}. */
    static Packed bytePrepack(Tensor weight) {
        synchronized (Libtorch.class) {
            Libtorch.threads();
            try (PointerScope scope = new PointerScope()) {
                IValueVector stack = stack(new IValue(Libtorch.toLibtorch(weight)));
                call("quantized::embedding_bag_byte_prepack", stack);
                return packed(stack.get(0).toTensor());
            }
        }
    }

    /** {@code torch.ops.quantized.embedding_bag_4bit_prepack(weight, False, 200, 0.16)}: the defaults, pushed. */
    static Packed fourBitPrepack(Tensor weight) {
        synchronized (Libtorch.class) {
            Libtorch.threads();
            try (PointerScope scope = new PointerScope()) {
                IValueVector stack = stack(new IValue(Libtorch.toLibtorch(weight)), new IValue(false), new IValue(200L),
                        new IValue(0.16));
                call("quantized::embedding_bag_4bit_prepack", stack);
                return packed(stack.get(0).toTensor());
            }
        }
    }

    /** {@code torch.ops.quantized.embedding_bag_4bit_unpack(packed)}. */
    static Tensor fourBitUnpack(Packed packed) {
        synchronized (Libtorch.class) {
            try (PointerScope scope = new PointerScope()) {
                IValueVector stack = stack(new IValue(bytes(packed)));
                call("quantized::embedding_bag_4bit_unpack", stack);
                return Libtorch.toJembed(stack.get(0).toTensor());
            }
        }
    }

    /** As {@link #byteRowwiseOffsets}, for 4-bit rows: {@code embedding_bag_4bit_rowwise_offsets}. */
    static Tensor fourBitRowwiseOffsets(Packed packed, Tensor indices, Tensor offsets, long mode,
                                        Tensor perSampleWeights, boolean includeLastOffset) {
        synchronized (Libtorch.class) {
            try (PointerScope scope = new PointerScope()) {
                IValueVector stack = stack(new IValue(bytes(packed)), new IValue(Libtorch.toLibtorch(indices)),
                        offsets == null ? new IValue() : new IValue(Libtorch.toLibtorch(offsets)),
                        new IValue(false), new IValue(mode), new IValue(false),
                        perSampleWeights == null ? new IValue() : new IValue(Libtorch.toLibtorch(perSampleWeights)),
                        new IValue(), new IValue(includeLastOffset));
                call("quantized::embedding_bag_4bit_rowwise_offsets", stack);
                return Libtorch.toJembed(stack.get(0).toTensor());
            }
        }
    }

    /**
     * The 4-bit path of {@code torch.ao.nn.quantized.Embedding(dtype=torch.quint4x2)}: {@code quantize_per_channel(...,
     * torch.quint4x2)}, {@code embedding_bag_prepack}, {@code embedding_4bit(packed, indices, False)}. The bytes are
     * rebuilt as {@code embedding_bag_prepack} writes them: the packed codes, then per row {@code Half(scale)} and
     * {@code Half(zero_point * scale * -1)}.
     */
    static TorchBindLookup embedding4bit(Tensor weight, Tensor scales, Tensor zeroPoints, Tensor indices) {
        synchronized (Libtorch.class) {
            try (PointerScope scope = new PointerScope()) {
                org.bytedeco.pytorch.Tensor q = torch.quantize_per_channel(Libtorch.toLibtorch(weight),
                        Libtorch.toLibtorch(scales), Libtorch.toLibtorch(zeroPoints), 0, torch.ScalarType.QUInt4x2);
                IValueVector prepack = stack(new IValue(q));
                call("quantized::embedding_bag_prepack", prepack);
                IValueVector lookup = stack(prepack.get(0), new IValue(Libtorch.toLibtorch(indices)),
                        new IValue(false));
                call("quantized::embedding_4bit", lookup);
                Tensor out = Libtorch.toJembed(lookup.get(0).toTensor());

                int rows = Math.toIntExact(weight.size(0));
                int dim = Math.toIntExact(weight.size(1));
                // int_repr of a quint4x2 tensor: its packed bytes (rows x dim / 2) or one code a byte (rows x dim),
                // whatever its shape says; the element count tells which.
                org.bytedeco.pytorch.Tensor codes = q.int_repr().contiguous();
                int codeCols = Math.toIntExact(codes.numel() / Math.max(1, rows));
                byte[] raw = new byte[rows * codeCols];
                if (raw.length > 0) {
                    codes.data_ptr_byte().get(raw);
                }
                float[] s = new float[rows];
                float[] z = new float[rows];
                q.q_per_channel_scales().to(torch.ScalarType.Float).contiguous().data_ptr_float().get(s);
                q.q_per_channel_zero_points().to(torch.ScalarType.Float).contiguous().data_ptr_float().get(z);
                int rowBytes = dim / 2 + 4;
                byte[] bytes = new byte[rows * rowBytes];
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int r = 0; r < rows; r++) {
                    b.position(r * rowBytes);
                    if (codeCols == dim / 2) {
                        b.put(raw, r * codeCols, codeCols);
                    } else {
                        for (int c = 0; c < dim; c += 2) {
                            b.put((byte) (raw[r * codeCols + c] & 0x0F | (raw[r * codeCols + c + 1] & 0x0F) << 4));
                        }
                    }
                    b.putShort(io.jembed.internal.HalfFloats.floatToFloat16(s[r]));
                    b.putShort(io.jembed.internal.HalfFloats.floatToFloat16(z[r] * s[r] * -1f));
                }
                return new TorchBindLookup(new Packed(bytes, rows, rowBytes), out);
            }
        }
    }

    /** {@code torch.ops.quantized.embedding_bag_byte_unpack(packed)}. */
    static Tensor byteUnpack(Packed packed) {
        synchronized (Libtorch.class) {
            try (PointerScope scope = new PointerScope()) {
                IValueVector stack = stack(new IValue(bytes(packed)));
                call("quantized::embedding_bag_byte_unpack", stack);
                return Libtorch.toJembed(stack.get(0).toTensor());
            }
        }
    }

    /**
     * {@code torch.ops.quantized.embedding_bag_byte_rowwise_offsets(packed, indices, offsets, False, mode, False,
     * per_sample_weights, None, include_last_offset)}; {@code offsets} and {@code perSampleWeights} may be null.
     */
    static Tensor byteRowwiseOffsets(Packed packed, Tensor indices, Tensor offsets, long mode,
                                     Tensor perSampleWeights, boolean includeLastOffset) {
        synchronized (Libtorch.class) {
            try (PointerScope scope = new PointerScope()) {
                IValueVector stack = stack(new IValue(bytes(packed)), new IValue(Libtorch.toLibtorch(indices)),
                        offsets == null ? new IValue() : new IValue(Libtorch.toLibtorch(offsets)),
                        new IValue(false), new IValue(mode), new IValue(false),
                        perSampleWeights == null ? new IValue() : new IValue(Libtorch.toLibtorch(perSampleWeights)),
                        new IValue(), new IValue(includeLastOffset));
                call("quantized::embedding_bag_byte_rowwise_offsets", stack);
                return Libtorch.toJembed(stack.get(0).toTensor());
            }
        }
    }

    /** What the TorchBind path made of a float weight: the packed bytes it holds, and a plain lookup in it. */
    static final class TorchBindLookup {
        final Packed packed;
        final Tensor out;

        TorchBindLookup(Packed packed, Tensor out) {
            this.packed = packed;
            this.out = out;
        }
    }

    /**
     * The path of {@code torch.ao.nn.quantized.Embedding}: {@code q = torch.quantize_per_channel(weight, scales,
     * zero_points, 0, torch.quint8)} with float zero points, {@code packed = torch.ops.quantized.embedding_bag_prepack
     * (q)}, {@code torch.ops.quantized.embedding_byte(packed, indices, False)}. The bytes {@code packed} holds are
     * rebuilt from {@code q} as {@code embedding_bag_prepack} writes them: the codes ({@code q.int_repr()}), then per
     * row the scale and the bias {@code zero_point * scale * -1} as float32.
     */
    static TorchBindLookup embeddingByte(Tensor weight, Tensor scales, Tensor zeroPoints, Tensor indices) {
        synchronized (Libtorch.class) {
            try (PointerScope scope = new PointerScope()) {
                org.bytedeco.pytorch.Tensor q = torch.quantize_per_channel(Libtorch.toLibtorch(weight),
                        Libtorch.toLibtorch(scales), Libtorch.toLibtorch(zeroPoints), 0, torch.ScalarType.QUInt8);
                IValueVector prepack = stack(new IValue(q));
                call("quantized::embedding_bag_prepack", prepack);
                IValue params = prepack.get(0);
                IValueVector lookup = stack(params, new IValue(Libtorch.toLibtorch(indices)), new IValue(false));
                call("quantized::embedding_byte", lookup);
                Tensor out = Libtorch.toJembed(lookup.get(0).toTensor());

                org.bytedeco.pytorch.Tensor codes = q.int_repr().contiguous();
                float[] s = new float[Math.toIntExact(weight.size(0))];
                float[] z = new float[s.length];
                q.q_per_channel_scales().to(torch.ScalarType.Float).contiguous().data_ptr_float().get(s);
                q.q_per_channel_zero_points().to(torch.ScalarType.Float).contiguous().data_ptr_float().get(z);
                int rows = s.length;
                int dim = Math.toIntExact(weight.size(1));
                byte[] raw = new byte[rows * dim];
                if (raw.length > 0) {
                    codes.data_ptr_byte().get(raw);
                }
                byte[] bytes = new byte[rows * (dim + 8)];
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int r = 0; r < rows; r++) {
                    b.position(r * (dim + 8));
                    b.put(raw, r * dim, dim);
                    b.putFloat(s[r]);
                    b.putFloat(z[r] * s[r] * -1f);
                }
                return new TorchBindLookup(new Packed(bytes, rows, dim + 8), out);
            }
        }
    }

    private static IValueVector stack(IValue... values) {
        IValueVector stack = new IValueVector();
        for (IValue v : values) {
            stack.push_back(v);
        }
        return stack;
    }

    private static void call(String name, IValueVector stack) {
        OperatorHandle op = Dispatcher.singleton().findSchemaOrThrow(name, "");
        op.callBoxed(stack);
    }

    private static org.bytedeco.pytorch.Tensor bytes(Packed packed) {
        org.bytedeco.pytorch.Tensor t = torch.empty(new long[] {packed.rows, packed.cols},
                new TensorOptions(torch.ScalarType.Byte), new MemoryFormatOptional());
        if (packed.bytes.length > 0) {
            t.data_ptr_byte().put(packed.bytes);
        }
        return t;
    }

    private static Packed packed(org.bytedeco.pytorch.Tensor t) {
        org.bytedeco.pytorch.Tensor c = t.contiguous();
        byte[] bytes = new byte[Math.toIntExact(c.numel())];
        if (bytes.length > 0) {
            c.data_ptr_byte().get(bytes);
        }
        return new Packed(bytes, c.size(0), c.size(1));
    }
}
