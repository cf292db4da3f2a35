package io.jembed.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.optim.AdamOptions;
import io.jembed.optim.Optimizer;
import io.jembed.optim.SGD;
import io.jembed.optim.SGDOptions;
import io.jembed.optim.SparseAdam;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * End to end: skip-gram with negative sampling on a generated corpus whose 60 words fall into 6 planted clusters
 * (a sentence draws its words from one cluster, with 10% noise words). Two sparse embeddings (centre and context
 * vectors) train with a sparse optimizer; afterwards each word's 9 nearest neighbours (cosine) should come from its
 * own cluster. A wrong sign, a lost update or a gradient on the wrong row keeps the purity near chance (about 0.15).
 */
class SkipGramTrainingTest {
    private static final int CLUSTERS = 6;
    private static final int CLUSTER_SIZE = 10;
    private static final int VOCAB = CLUSTERS * CLUSTER_SIZE;
    private static final int DIM = 16;
    private static final int WINDOW = 2;
    private static final int NEGATIVES = 3;
    private static final int BATCH = 256;

    @Test
    void sparseAdamRecoversThePlantedClusters() {
        double purity = train(params -> new SparseAdam(params, new AdamOptions(0.05)), 3);
        System.out.println("skip-gram purity with SparseAdam: " + purity);
        assertTrue(purity >= 0.95, "nearest-neighbour purity " + purity);
    }

    @Test
    void sparseSgdRecoversThePlantedClusters() {
        double purity = train(params -> new SGD(params, new SGDOptions(0.5)), 6);
        System.out.println("skip-gram purity with sparse SGD: " + purity);
        assertTrue(purity >= 0.95, "nearest-neighbour purity " + purity);
    }

    private static double train(Function<List<Tensor>, Optimizer> optimizerFor, int epochs) {
        Generator g = new Generator(2026);
        List<int[]> pairs = corpusPairs(g);
        EmbeddingOptions options = new EmbeddingOptions(VOCAB, DIM).sparse(true).generator(g);
        try (Embedding centres = new Embedding(options);
             Embedding contexts = new Embedding(new EmbeddingOptions(VOCAB, DIM).sparse(true).generator(g))) {
            centres.weight().normal_(0, 0.1, g);
            contexts.weight().normal_(0, 0.1, g);
            List<Tensor> params = new ArrayList<>(centres.parameters());
            params.addAll(contexts.parameters());
            try (Optimizer optimizer = optimizerFor.apply(params)) {
                for (int epoch = 0; epoch < epochs; epoch++) {
                    shuffle(pairs, g);
                    for (int start = 0; start + BATCH <= pairs.size(); start += BATCH) {
                        step(centres, contexts, pairs.subList(start, start + BATCH), g);
                        optimizer.step();
                        optimizer.zeroGrad();
                    }
                }
            }
            return purity(centres.weight().toFloatArray());
        }
    }

    /** One batch: each positive pair plus NEGATIVES random contexts, logistic loss, gradients by hand. */
    private static void step(Embedding centres, Embedding contexts, List<int[]> batch, Generator g) {
        int rows = batch.size() * (1 + NEGATIVES);
        long[] centre = new long[rows];
        long[] context = new long[rows];
        float[] label = new float[rows];
        for (int b = 0; b < batch.size(); b++) {
            for (int k = 0; k <= NEGATIVES; k++) {
                int r = b * (1 + NEGATIVES) + k;
                centre[r] = batch.get(b)[0];
                context[r] = k == 0 ? batch.get(b)[1] : (long) (g.nextDouble() * VOCAB);
                label[r] = k == 0 ? 1 : 0;
            }
        }
        try (Tensor u = centres.forward(Torch.tensor(centre));
             Tensor v = contexts.forward(Torch.tensor(context))) {
            float[] uu = u.toFloatArray();
            float[] vv = v.toFloatArray();
            float[] gradU = new float[uu.length];
            float[] gradV = new float[vv.length];
            for (int r = 0; r < rows; r++) {
                double score = 0;
                for (int j = 0; j < DIM; j++) {
                    score += uu[r * DIM + j] * vv[r * DIM + j];
                }
                // d/dscore of -[y log s + (1 - y) log(1 - s)] with s = sigmoid(score), averaged over the batch.
                float coefficient = (float) ((1 / (1 + Math.exp(-score)) - label[r]) / batch.size());
                for (int j = 0; j < DIM; j++) {
                    gradU[r * DIM + j] = coefficient * vv[r * DIM + j];
                    gradV[r * DIM + j] = coefficient * uu[r * DIM + j];
                }
            }
            u.backward(Torch.tensor(gradU, rows, DIM));
            v.backward(Torch.tensor(gradV, rows, DIM));
        }
    }

    private static List<int[]> corpusPairs(Generator g) {
        List<int[]> pairs = new ArrayList<>();
        for (int s = 0; s < 1500; s++) {
            int cluster = (int) (g.nextDouble() * CLUSTERS);
            int[] sentence = new int[8];
            for (int w = 0; w < sentence.length; w++) {
                boolean noise = g.nextDouble() < 0.1;
                sentence[w] = noise ? (int) (g.nextDouble() * VOCAB)
                        : cluster * CLUSTER_SIZE + (int) (g.nextDouble() * CLUSTER_SIZE);
            }
            for (int i = 0; i < sentence.length; i++) {
                for (int j = Math.max(0, i - WINDOW); j <= Math.min(sentence.length - 1, i + WINDOW); j++) {
                    if (i != j) {
                        pairs.add(new int[] {sentence[i], sentence[j]});
                    }
                }
            }
        }
        return pairs;
    }

    private static void shuffle(List<int[]> pairs, Generator g) {
        for (int i = pairs.size() - 1; i > 0; i--) {
            int j = (int) (g.nextDouble() * (i + 1));
            int[] t = pairs.get(i);
            pairs.set(i, pairs.get(j));
            pairs.set(j, t);
        }
    }

    /** The fraction of each word's CLUSTER_SIZE - 1 nearest neighbours (cosine) that share its cluster. */
    private static double purity(float[] vectors) {
        double[] norms = new double[VOCAB];
        for (int w = 0; w < VOCAB; w++) {
            for (int j = 0; j < DIM; j++) {
                norms[w] += vectors[w * DIM + j] * vectors[w * DIM + j];
            }
            norms[w] = Math.sqrt(norms[w]);
        }
        int hits = 0;
        for (int w = 0; w < VOCAB; w++) {
            Integer[] others = new Integer[VOCAB];
            double[] similarity = new double[VOCAB];
            for (int o = 0; o < VOCAB; o++) {
                others[o] = o;
                double dot = 0;
                for (int j = 0; j < DIM; j++) {
                    dot += vectors[w * DIM + j] * vectors[o * DIM + j];
                }
                similarity[o] = o == w ? Double.NEGATIVE_INFINITY : dot / (norms[w] * norms[o]);
            }
            java.util.Arrays.sort(others, (a, b) -> Double.compare(similarity[b], similarity[a]));
            for (int k = 0; k < CLUSTER_SIZE - 1; k++) {
                hits += others[k] / CLUSTER_SIZE == w / CLUSTER_SIZE ? 1 : 0;
            }
        }
        return hits / (double) (VOCAB * (CLUSTER_SIZE - 1));
    }
}
