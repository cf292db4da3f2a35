package io.jembed.examples;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.numpy.Npy;
import io.jembed.io.safetensors.Safetensors;
import io.jembed.mapped.MappedTensors;
import io.jembed.nn.Embedding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** The README's memory-mapped tables: a safetensors table, an .npy file and a raw float32 file, mapped and looked up. */
public final class MappedTables {
    private MappedTables() {}

    public static void main(String[] args) throws Exception {
        long rows = 100;
        long dim = 8;
        float[] values = new float[(int) (rows * dim)];
        for (int k = 0; k < values.length; k++) {
            values[k] = k / 8f;
        }
        try (Tensor table = Torch.tensor(values, rows, dim)) {
            Safetensors.saveFile(Map.of("weight", table), Path.of("table.safetensors"));
        }
        ByteBuffer raw32 = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw32.putFloat(v);
        }
        Files.write(Path.of("table.f32"), raw32.array());
        try (Tensor table = Torch.tensor(values, rows, dim)) {
            Npy.save(Path.of("table.npy"), table);
        }
        Tensor idx = Torch.tensor(new long[] {3, 99});
        // Java: the same, for safetensors (F32/F64/I32/I64 tensors), .npy files and raw files (numpy.memmap(mode='r'))
        Tensor weight = MappedTensors.safeOpen(Path.of("table.safetensors")).getTensor("weight");
        Tensor array = Npy.map(Path.of("table.npy"));                // numpy.load("table.npy", mmap_mode='r')
        Tensor raw = Torch.fromFile(Path.of("table.f32"), DType.FLOAT32, 0, new long[] {rows, dim});
        try (Embedding emb = Embedding.fromPretrained(weight)) {
            Tensor out = emb.forward(idx);                          // the same kernels as a table in memory
            float[] got = out.toFloatArray();
            if (got[0] != 3 * dim / 8f || got[(int) dim] != 99 * dim / 8f) {
                throw new AssertionError("mapped lookup gave " + Arrays.toString(got));
            }
        }
        if (raw.getDouble(99, 7) != (99 * dim + 7) / 8.0) {
            throw new AssertionError("raw map gave " + raw.getDouble(99, 7));
        }
        if (array.getDouble(99, 7) != (99 * dim + 7) / 8.0) {
            throw new AssertionError(".npy map gave " + array.getDouble(99, 7));
        }
        raw.close();
        array.close();
        Files.delete(Path.of("table.npy"));
        Files.delete(Path.of("table.safetensors"));
        Files.delete(Path.of("table.f32"));
        System.out.println("mapped lookups: ok");
    }
}
