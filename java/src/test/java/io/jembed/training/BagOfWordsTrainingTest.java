package io.jembed.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagOptions;
import io.jembed.optim.Adam;
import io.jembed.optim.AdamOptions;
import io.jembed.optim.Optimizer;
import io.jembed.optim.SparseAdam;
import org.junit.jupiter.api.Test;

/**
 * End to end: a bag-of-words classifier, {@code EmbeddingBag(200, 4, mode='mean')} whose pooled row is the four
 * class logits, trained with softmax cross-entropy on planted data: 4 classes of 40 signal words each plus 40 noise
 * words; a document holds 4 signal words of its class and 4 words drawn from the whole vocabulary (so that the best possible accuracy is about 0.99), in bags of
 * varying layout (1-D input with offsets). After training, held-out accuracy must reach 0.95 (measured: 0.9975 with either optimizer; chance is 0.25); the
 * same training with the gradient's sign flipped must stay below 0.5 (measured: 0.0), which shows the threshold can fail.
 */
class BagOfWordsTrainingTest {
    private static final int CLASSES = 4;
    private static final int SIGNAL_PER_CLASS = 40;
    private static final int VOCAB = CLASSES * SIGNAL_PER_CLASS + 40;
    private static final int SIGNAL_WORDS = 4;
    private static final int NOISE_WORDS = 4;
    private static final int BATCH = 64;
    private static final int STEPS = 300;

    @Test
    void meanBagWithSparseAdamLearnsThePlantedClasses() {
        double accuracy = train(true, 1.0);
        System.out.println("bag-of-words accuracy with mean bags + SparseAdam: " + accuracy);
        assertTrue(accuracy >= 0.95, "held-out accuracy " + accuracy);
    }

    @Test
    void meanBagWithDenseAdamLearnsThePlantedClasses() {
        double accuracy = train(false, 1.0);
        System.out.println("bag-of-words accuracy with mean bags + Adam (dense): " + accuracy);
        assertTrue(accuracy >= 0.95, "held-out accuracy " + accuracy);
    }

    @Test
    void aSignFlippedGradientDoesNotLearn() {
        double accuracy = train(true, -1.0);
        System.out.println("bag-of-words accuracy with the gradient's sign flipped: " + accuracy);
        assertTrue(accuracy < 0.5, "a broken gradient must not reach the threshold: accuracy " + accuracy);
    }

    /** A batch of documents: the flat words, the offsets of each document, the labels. */
    private static final class Batch {
        final long[] words;
        final long[] offsets;
        final int[] labels;

        Batch(Generator g, int size) {
            words = new long[size * (SIGNAL_WORDS + NOISE_WORDS)];
            offsets = new long[size];
            labels = new int[size];
            int at = 0;
            for (int d = 0; d < size; d++) {
                offsets[d] = at;
                int label = (int) (g.nextDouble() * CLASSES);
                labels[d] = label;
                for (int k = 0; k < SIGNAL_WORDS + NOISE_WORDS; k++) {
                    words[at++] = k < SIGNAL_WORDS
                            ? label * SIGNAL_PER_CLASS + (long) (g.nextDouble() * SIGNAL_PER_CLASS)
                            : (long) (g.nextDouble() * VOCAB);
                }
            }
        }
    }

    /** @param gradientSign 1 for the true gradient, -1 for a broken one */
    private static double train(boolean sparse, double gradientSign) {
        Generator g = new Generator(190);
        try (EmbeddingBag model = new EmbeddingBag(new EmbeddingBagOptions(VOCAB, CLASSES).mode("mean")
                .sparse(sparse).generator(g))) {
            model.weight().normal_(0, 0.1, g);
            try (Optimizer optimizer = sparse ? new SparseAdam(model.parameters(), new AdamOptions(0.05))
                    : new Adam(model.parameters(), new AdamOptions(0.05))) {
                for (int step = 0; step < STEPS; step++) {
                    Batch batch = new Batch(g, BATCH);
                    try (Tensor words = Torch.tensor(batch.words);
                         Tensor offsets = Torch.tensor(batch.offsets);
                         Tensor logits = model.forward(words, offsets);
                         Tensor upstream = crossEntropyGradient(logits, batch.labels, gradientSign)) {
                        logits.backward(upstream);
                    }
                    optimizer.step();
                    optimizer.zeroGrad();
                }
            }
            Batch test = new Batch(new Generator(7), 2000);
            try (Tensor words = Torch.tensor(test.words);
                 Tensor offsets = Torch.tensor(test.offsets);
                 Tensor logits = model.forward(words, offsets)) {
                float[] z = logits.toFloatArray();
                int correct = 0;
                for (int d = 0; d < test.labels.length; d++) {
                    int best = 0;
                    for (int c = 1; c < CLASSES; c++) {
                        best = z[d * CLASSES + c] > z[d * CLASSES + best] ? c : best;
                    }
                    correct += best == test.labels[d] ? 1 : 0;
                }
                return (double) correct / test.labels.length;
            }
        }
    }

    /** d(mean cross-entropy)/d(logits) = (softmax - one_hot) / batch, times {@code sign}. */
    private static Tensor crossEntropyGradient(Tensor logits, int[] labels, double sign) {
        float[] z = logits.toFloatArray();
        float[] grad = new float[z.length];
        for (int d = 0; d < labels.length; d++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < CLASSES; c++) {
                max = Math.max(max, z[d * CLASSES + c]);
            }
            double total = 0;
            for (int c = 0; c < CLASSES; c++) {
                total += Math.exp(z[d * CLASSES + c] - max);
            }
            for (int c = 0; c < CLASSES; c++) {
                double p = Math.exp(z[d * CLASSES + c] - max) / total;
                grad[d * CLASSES + c] = (float) (sign * (p - (c == labels[d] ? 1 : 0)) / labels.length);
            }
        }
        return Torch.tensor(grad, labels.length, CLASSES);
    }
}
