package io.jembed.examples;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;

/** The README's float16/bfloat16 snippet: a bfloat16 table serving an EmbeddingBag. */
public final class HalfTables {
    private HalfTables() {}

    public static void main(String[] args) {
        try (Tensor table = Torch.randn(new Generator(0), DType.FLOAT32, 1000, 64);
             Tensor narrow = table.to(DType.BFLOAT16);           // weight.to(torch.bfloat16): half the bytes
             EmbeddingBag bag = EmbeddingBag.fromPretrained(narrow,
                     new EmbeddingBagFromPretrainedOptions().mode("sum"));
             Tensor input = Torch.tensor(new long[] {1, 2, 4, 5, 4, 3, 2, 9});
             Tensor offsets = Torch.tensor(new long[] {0, 4});
             Tensor out = bag.forward(input, offsets)) {        // (2, 64) bfloat16: float32 sums rounded once
            System.out.println(out.dtype());                    // torch.bfloat16
            if (out.dtype() != DType.BFLOAT16 || out.size(0) != 2 || out.size(1) != 64) {
                throw new AssertionError("expected a (2, 64) bfloat16 result, got " + out.dtype() + " "
                        + java.util.Arrays.toString(out.shape()));
            }
            // Each element is the float32 sum of its bag's bfloat16 rows, rounded once: within half a bfloat16 step.
            long[][] bags = {{1, 2, 4, 5}, {4, 3, 2, 9}};
            for (int b = 0; b < 2; b++) {
                for (int j = 0; j < 64; j++) {
                    float sum = 0f;
                    for (long r : bags[b]) {
                        sum += (float) narrow.getDouble(r, j);
                    }
                    double got = out.getDouble(b, j);
                    if (Math.abs(got - sum) > Math.abs(sum) * 0x1p-8 + 1e-30) {
                        throw new AssertionError("bag " + b + " column " + j + ": expected about " + sum + ", got "
                                + got);
                    }
                }
            }
        }
    }
}
