package io.jembed.examples;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.optim.AdamOptions;
import io.jembed.optim.SparseAdam;

import java.util.Arrays;

/** The README's training snippet: a sparse embedding trained by SparseAdam, one step. */
public final class Training {
    private Training() {}

    public static void main(String[] args) {
        Torch.manualSeed(0);
        try (Tensor idx = Torch.tensor(new long[] {3, 7, 3, 500});
             Tensor gradOut = Torch.ones(DType.FLOAT32, 4, 64)) {
            Embedding emb = new Embedding(new EmbeddingOptions(1000, 64).sparse(true));   // jembed
            SparseAdam opt = new SparseAdam(emb.parameters(), new AdamOptions(0.05));
            float[] before = emb.weight().toFloatArray();
            Tensor out = emb.forward(idx);                         // (B, 64), out.gradFn() is EmbeddingBackward0
            out.backward(gradOut);                                 // accumulates into emb.weight().sparseGrad()
            opt.step(); opt.zeroGrad();

            if (!out.gradFn().name().equals("EmbeddingBackward0")) {
                throw new AssertionError("grad_fn is " + out.gradFn().name());
            }
            // Only the looked-up rows (3, 7, 500) moved.
            float[] after = emb.weight().toFloatArray();
            for (int row = 0; row < 1000; row++) {
                boolean moved = !Arrays.equals(before, row * 64, row * 64 + 64, after, row * 64, row * 64 + 64);
                boolean lookedUp = row == 3 || row == 7 || row == 500;
                if (moved != lookedUp) {
                    throw new AssertionError("row " + row + (moved ? " moved" : " did not move"));
                }
            }
            System.out.println("one SparseAdam step: rows 3, 7 and 500 moved, the other 997 did not");
            out.close();
            emb.close();
        }
    }
}
