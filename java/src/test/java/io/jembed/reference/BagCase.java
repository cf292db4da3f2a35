package io.jembed.reference;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.EmbeddingBagMode;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One random {@code embedding_bag} case for the differential tests: a table, bags of indices (1-D with offsets, or
 * 2-D), and the options. The tensors it makes are new and owned by the caller.
 */
final class BagCase {
    private static final long[] DIMS = {1, 2, 3, 7, 8, 9, 16, 31, 33, 64, 100};

    long rows;
    long dim;
    DType weightType;
    DType indexType;
    DType offsetType;
    EmbeddingBagMode mode;
    boolean twoD;
    long bagLength;
    long[] indices;
    long[] starts;
    boolean includeLastOffset;
    Long paddingIdx;
    Double maxNorm;
    double normType = 2.0;
    boolean scaleGradByFreq;
    boolean sparse;
    double[] perSampleWeights;
    double[] weightValues;

    /** @param withSpecials whether weights may be NaN, infinite, subnormal or signed zeros */
    static BagCase draw(SplittableRandom random) {
        return draw(random, true);
    }

    static BagCase draw(SplittableRandom random, boolean withSpecials) {
        BagCase k = new BagCase();
        k.rows = random.nextInt(6) == 0 ? 1 + random.nextInt(3) : 1 + random.nextInt(300);
        k.dim = DIMS[random.nextInt(DIMS.length)];
        k.weightType = random.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
        k.indexType = random.nextBoolean() ? DType.INT64 : DType.INT32;
        k.offsetType = random.nextInt(4) == 0 ? other(k.indexType) : k.indexType;
        k.mode = EmbeddingBagMode.values()[random.nextInt(3)];
        k.twoD = random.nextInt(4) == 0;
        int numBags = random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(9);
        int[] lengths = new int[numBags];
        if (k.twoD) {
            k.bagLength = 1 + random.nextInt(8);
            Arrays.fill(lengths, (int) k.bagLength);
        } else {
            for (int b = 0; b < numBags; b++) {
                lengths[b] = random.nextInt(4) == 0 ? 0 : random.nextInt(5) == 0 ? 1 : 1 + random.nextInt(12);
            }
            k.includeLastOffset = random.nextBoolean();
        }
        int n = Arrays.stream(lengths).sum();
        k.indices = RandomIndices.values(random, k.rows, n);
        k.starts = new long[numBags];
        for (int b = 1; b < numBags; b++) {
            k.starts[b] = k.starts[b - 1] + lengths[b - 1];
        }
        if (random.nextInt(3) != 0) {
            long p = n > 0 && random.nextBoolean() ? k.indices[random.nextInt(n)] : random.nextLong(k.rows);
            // Now and then a whole bag of padding.
            if (numBags > 0 && lengths[numBags - 1] > 0 && random.nextBoolean()) {
                for (int i = (int) k.starts[numBags - 1]; i < n; i++) {
                    k.indices[i] = p;
                }
            }
            k.paddingIdx = random.nextBoolean() ? p : p - k.rows;
        }
        if (k.mode == EmbeddingBagMode.SUM && random.nextBoolean()) {
            k.perSampleWeights = new double[n];
            for (int i = 0; i < n; i++) {
                int pick = random.nextInt(8);
                k.perSampleWeights[i] = pick == 0 ? 1 : pick == 1 ? 0 : random.nextDouble() * 4 - 2;
            }
        }
        if (random.nextInt(5) == 0) {
            k.maxNorm = new double[] {0.5, 1, 3}[random.nextInt(3)];
            // Norms that are exact in any order (a max, a count), so that the renormalised rows are bit-exact; the
            // summed norms, exact only to rounding, are RenormMatchesLibtorchTest's.
            k.normType = random.nextBoolean() ? Double.POSITIVE_INFINITY : 0.0;
        }
        if (k.mode != EmbeddingBagMode.MAX) {
            k.scaleGradByFreq = random.nextInt(4) == 0;
            k.sparse = random.nextInt(3) == 0;
        }
        int size = Math.toIntExact(k.rows * k.dim);
        k.weightValues = new double[size];
        for (int i = 0; i < size; i++) {
            k.weightValues[i] = withSpecials && random.nextInt(60) == 0 ? special(random, k.weightType)
                    : (random.nextDouble() * 2 - 1) * Math.pow(10, random.nextInt(5) - 2);
        }
        return k;
    }

    private static DType other(DType indexType) {
        return indexType == DType.INT64 ? DType.INT32 : DType.INT64;
    }

    private static double special(SplittableRandom random, DType type) {
        double[] values = type == DType.FLOAT32
                ? new double[] {Double.NaN, -0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                    Float.MIN_VALUE, -Float.MIN_NORMAL / 2, Float.MAX_VALUE}
                : new double[] {Double.NaN, -0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                    Double.MIN_VALUE, -Double.MIN_NORMAL / 2, Double.MAX_VALUE};
        return values[random.nextInt(values.length)];
    }

    long numBags() {
        return starts.length;
    }

    boolean hasEmptyBag() {
        for (int b = 0; b < starts.length; b++) {
            if (end(b) == starts[b]) {
                return true;
            }
        }
        return false;
    }

    boolean hasAllPaddingBag() {
        if (paddingIdx == null) {
            return false;
        }
        long p = normalisedPaddingIdx();
        for (int b = 0; b < starts.length; b++) {
            boolean all = end(b) > starts[b];
            for (long i = starts[b]; i < end(b); i++) {
                all &= indices[(int) i] == p;
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    long end(int b) {
        return b + 1 < starts.length ? starts[b + 1] : indices.length;
    }

    Long normalisedPaddingIdx() {
        return paddingIdx == null ? null : paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
    }

    Tensor weight() {
        Tensor w = Torch.empty(weightType, rows, dim);
        if (weightType == DType.FLOAT64) {
            return w.copyFrom(weightValues);
        }
        float[] narrow = new float[weightValues.length];
        for (int i = 0; i < narrow.length; i++) {
            narrow[i] = (float) weightValues[i];
        }
        return w.copyFrom(narrow);
    }

    /** The input as jembed gets it: 2-D {@code (B, N)} or 1-D. */
    Tensor input() {
        return indexTensor(indexType, indices, twoD ? new long[] {starts.length, bagLength}
                : new long[] {indices.length});
    }

    /** The input as libtorch's operator gets it: always 1-D (F.embedding_bag flattens 2-D input). */
    Tensor flatInput() {
        return indexTensor(indexType, indices, new long[] {indices.length});
    }

    /** The offsets jembed gets: none for 2-D input. */
    Tensor offsets() {
        return twoD ? null : indexTensor(offsetType, offsetValues(includeLastOffset), new long[] {
            starts.length + (includeLastOffset ? 1 : 0)});
    }

    /** The offsets libtorch's operator gets: for 2-D input, {@code arange(0, numel, N)} as F.embedding_bag makes. */
    Tensor libtorchOffsets() {
        boolean last = !twoD && includeLastOffset;
        return indexTensor(twoD ? indexType : offsetType, offsetValues(last),
                new long[] {starts.length + (last ? 1 : 0)});
    }

    private long[] offsetValues(boolean withLast) {
        long[] values = Arrays.copyOf(starts, starts.length + (withLast ? 1 : 0));
        if (withLast) {
            values[starts.length] = indices.length;
        }
        return values;
    }

    Tensor perSampleWeights() {
        return perSampleWeights == null ? null : floatTensor(perSampleWeights, twoD
                ? new long[] {starts.length, bagLength} : new long[] {indices.length});
    }

    Tensor flatPerSampleWeights() {
        return perSampleWeights == null ? null : floatTensor(perSampleWeights, new long[] {indices.length});
    }

    private Tensor floatTensor(double[] values, long[] shape) {
        Tensor t = Torch.empty(weightType, shape);
        if (weightType == DType.FLOAT64) {
            return t.copyFrom(values);
        }
        float[] narrow = new float[values.length];
        for (int i = 0; i < narrow.length; i++) {
            narrow[i] = (float) values[i];
        }
        return t.copyFrom(narrow);
    }

    private static Tensor indexTensor(DType type, long[] values, long[] shape) {
        Tensor t = Torch.empty(type, shape);
        if (type == DType.INT64) {
            return t.copyFrom(values);
        }
        int[] narrow = new int[values.length];
        for (int i = 0; i < narrow.length; i++) {
            narrow[i] = Math.toIntExact(values[i]);
        }
        return t.copyFrom(narrow);
    }

    @Override
    public String toString() {
        String shown = indices.length <= 40 ? Arrays.toString(indices) : indices.length + " indices";
        return "weight " + weightType + " (" + rows + ", " + dim + "), mode " + mode.pythonName() + ", "
                + (twoD ? "2-D input (" + starts.length + ", " + bagLength + ")" : "1-D input") + " " + indexType
                + " " + shown + ", offsets " + offsetType + " " + Arrays.toString(starts) + ", include_last_offset "
                + includeLastOffset + ", padding_idx " + paddingIdx + ", per_sample_weights "
                + (perSampleWeights == null ? "none" : perSampleWeights.length + " values") + ", max_norm " + maxNorm
                + ", norm_type " + normType + ", scale_grad_by_freq " + scaleGradByFreq + ", sparse " + sparse;
    }
}
