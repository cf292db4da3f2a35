package io.jembed.examples;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.mapped.MappedTensors;
import io.jembed.nn.Embedding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The README's memory-mapped snippet: a safetensors table and a raw float32 file, mapped read-only, looked up with the
 * same kernels as a table in memory.
 */
public final class MappedTables {
    private MappedTables() {}

    // The snippet's sizes. Fields, not locals: the snippet declares a local Tensor named rows in an inner block.
    private static final long rows = 5;
    private static final long dim = 3;
    private static final List<Path> FILES = List.of(Path.of("table.safetensors"), Path.of("table.f32"));

    public static void main(String[] args) throws IOException {
        float[] data = new float[(int) (rows * dim)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (i - 5) / 8f;
        }
        try (Tensor idx = Torch.tensor(new long[] {3, 0, 3, 4})) {
            writeFiles(data);

            // Java: the same, for safetensors (F32/F64/I32/I64 tensors) and raw files (numpy.memmap(mode='r') with an offset)
            Tensor weight = MappedTensors.safeOpen(Path.of("table.safetensors")).getTensor("weight");
            Tensor raw = Torch.fromFile(Path.of("table.f32"), DType.FLOAT32, 0, new long[] {rows, dim});
            check("mapped safetensors weight", weight, new long[] {rows, dim}, data);
            check("raw table.f32", raw, new long[] {rows, dim}, data);
            try (Embedding emb = Embedding.fromPretrained(weight)) {
                Tensor rows = emb.forward(idx);                         // the same kernels as a table in memory
                float[] expected = new float[(int) (idx.numel() * dim)];
                long[] ids = idx.toLongArray();
                for (int i = 0; i < ids.length; i++) {
                    System.arraycopy(data, (int) (ids[i] * dim), expected, (int) (i * dim), (int) dim);
                }
                check("rows 3, 0, 3, 4 of the mapped table", rows, new long[] {ids.length, dim}, expected);
                try (Embedding mapped = Embedding.fromPretrained(raw); Tensor fromRaw = mapped.forward(idx)) {
                    check("rows 3, 0, 3, 4 of table.f32", fromRaw, new long[] {ids.length, dim}, expected);
                }
                rows.close();
            }
            weight.close();
            raw.close();
            System.out.println("Mapped tables: table.safetensors and table.f32 mapped as (" + rows + ", " + dim
                    + "); rows 3, 0, 3, 4 as saved");
        } finally {
            for (Path file : FILES) {
                Files.deleteIfExists(file);
            }
        }
    }

    /** The files the snippet maps, in the working directory (where its relative paths resolve). */
    private static void writeFiles(float[] data) throws IOException {
        try (Tensor table = Torch.tensor(data, rows, dim)) {
            Safetensors.saveFile(Map.of("weight", table), Path.of("table.safetensors"));
        }
        // numpy's table.astype('<f4').tofile("table.f32"): raw little-endian float32, row after row, no header.
        ByteBuffer bytes = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(data);
        Files.write(Path.of("table.f32"), bytes.array());
    }

    private static void check(String what, Tensor tensor, long[] shape, float[] values) {
        if (!Arrays.equals(tensor.shape(), shape)) {
            throw new AssertionError(what + ": expected shape " + Arrays.toString(shape) + ", got "
                    + Arrays.toString(tensor.shape()));
        }
        if (!Arrays.equals(tensor.toFloatArray(), values)) {
            throw new AssertionError(what + ": expected " + Arrays.toString(values) + ", got "
                    + Arrays.toString(tensor.toFloatArray()));
        }
    }
}
