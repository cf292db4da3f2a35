package io.jembed.examples;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.io.safetensors.QuantizedSafetensors;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedEmbeddingBag;
import io.jembed.quantized.QuantizedTable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** The README's quantized-table snippet: quantize, look up bags, save and load the 8-bit rows. */
public final class Quantized {
    private Quantized() {}

    public static void main(String[] args) throws Exception {
        Path file = Files.createTempDirectory("jembed-quantized").resolve("emb.safetensors");
        Torch.manualSeed(0);
        try (Tensor weight = Torch.randn(10_000, 128);
             QuantizedEmbeddingBag bag = QuantizedEmbeddingBag.fromFloat(weight, QuantizedDType.QUINT8);
             Tensor input = Torch.tensor(new long[] {1, 2, 4, 5, 4, 3, 2, 9});
             Tensor offsets = Torch.tensor(new long[] {0, 4});
             Tensor out = bag.forward(input, offsets)) {         // (2, 128) float32, libtorch's bits
            QuantizedSafetensors.saveFile(Map.of("emb", bag.weight()), file, null);   // U8 (10000, 136)
            try (QuantizedTable loaded = QuantizedSafetensors.map(file, "emb")) {   // memory-mapped
                System.out.println(loaded + ": " + loaded.rowBytes() + " bytes a row instead of 512");
                if (!Arrays.equals(loaded.toByteArray(), bag.weight().toByteArray())) {
                    throw new AssertionError("the loaded table's bytes differ from the saved ones");
                }
            }
            if (!Arrays.equals(out.shape(), new long[] {2, 128})) {
                throw new AssertionError("expected shape (2, 128), got " + Arrays.toString(out.shape()));
            }
            // Each bag is within 4 half-steps (one per row) of the float sum, element by element.
            for (int b = 0; b < 2; b++) {
                for (int j = 0; j < 128; j++) {
                    double exact = 0;
                    double bound = 1e-6;
                    for (int i = 4 * b; i < 4 * b + 4; i++) {
                        long r = input.getLong(i);
                        exact += weight.getDouble(r, j);
                        bound += bag.weight().scale(r) / 2 + 1e-6;
                    }
                    if (Math.abs(out.getDouble(b, j) - exact) > bound) {
                        throw new AssertionError("bag " + b + " column " + j + ": " + out.getDouble(b, j)
                                + " is not within " + bound + " of " + exact);
                    }
                }
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        }
    }
}
