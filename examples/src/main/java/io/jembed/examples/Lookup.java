package io.jembed.examples;

import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;

import java.util.Arrays;

/** The README's first snippet: PyTorch's nn.Embedding documentation example. */
public final class Lookup {
    private Lookup() {}

    public static void main(String[] args) {
        Torch.manualSeed(0);
        try (Embedding embedding = new Embedding(10, 3);
             Tensor input = Torch.tensor(new long[][] {{1, 2, 4, 5}, {4, 3, 2, 9}});
             Tensor out = embedding.forward(input)) {
            System.out.println(out);   // tensor([[[...]]]) of shape (2, 4, 3), printed as PyTorch prints it
            if (!Arrays.equals(out.shape(), new long[] {2, 4, 3})) {
                throw new AssertionError("expected shape (2, 4, 3), got " + Arrays.toString(out.shape()));
            }
        }
    }
}
