package io.jembed.examples;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagOptions;

import java.util.Arrays;

/** The README's EmbeddingBag snippet: PyTorch's nn.EmbeddingBag documentation example. */
public final class Bag {
    private Bag() {}

    public static void main(String[] args) {
        Torch.manualSeed(0);
        try (EmbeddingBag bag = new EmbeddingBag(new EmbeddingBagOptions(10, 3).mode("sum"));
             Tensor input = Torch.tensor(new long[] {1, 2, 4, 5, 4, 3, 2, 9});
             Tensor offsets = Torch.tensor(new long[] {0, 4});
             Tensor out = bag.forward(input, offsets)) {
            System.out.println(out);   // (2, 3): the sums of rows [1, 2, 4, 5] and [4, 3, 2, 9], libtorch's bits
            if (!Arrays.equals(out.shape(), new long[] {2, 3})) {
                throw new AssertionError("expected shape (2, 3), got " + Arrays.toString(out.shape()));
            }
            // Each output row is the sum of its bag's rows of the weight.
            long[][] bags = {{1, 2, 4, 5}, {4, 3, 2, 9}};
            for (int b = 0; b < 2; b++) {
                for (int j = 0; j < 3; j++) {
                    float sum = 0f;
                    for (long r : bags[b]) {
                        sum += (float) bag.weight().getDouble(r, j);
                    }
                    double got = out.getDouble(b, j);
                    if (Math.abs(got - sum) > 1e-5 * (1 + Math.abs(sum))) {
                        throw new AssertionError("bag " + b + " column " + j + ": expected " + sum + ", got " + got);
                    }
                }
            }
        }
    }
}
