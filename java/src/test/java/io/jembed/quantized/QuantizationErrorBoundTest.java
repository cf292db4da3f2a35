package io.jembed.quantized;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jembed.Generator;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.DType;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The accuracy jembed states for 8-bit rows, checked element by element on the dequantized table and on lookups:
 *
 * <pre>
 *   |lookup(r)[c] - weight[r][c]| <= scale_r / 2 * (1 + 1e-4) + 1e-8 + 2 ulp(max |weight[r]|)
 * </pre>
 *
 * <p>Half a quantization step is the rounding of the code; {@code 1e-8} is what FBGEMM's epsilon in
 * {@code 255 / (range + 1e-8)} can add (it shrinks every code by the factor {@code range / (range + 1e-8)}); the
 * {@code 1e-4} relative slack and the ulps cover the float rounding of {@code x - min}, of the inverse scale and of
 * the final {@code fma}. The bound needs a range well above 1e-8; rows of a smaller range keep their minimum and lose
 * up to half their range (see {@code QuantizedTableTest.aRangeBelowTheEpsilonLosesHalfOfIt}).
 *
 * <p>Also prints what quantization costs on a table initialised as {@code nn.Embedding} initialises one (N(0, 1)),
 * which the README quotes.
 */
class QuantizationErrorBoundTest {

    @Test
    void everyElementIsWithinHalfAStepOfItsFloatValue() {
        SplittableRandom rng = new SplittableRandom(0x5EED_0B0DL);
        for (int c = 0; c < 200; c++) {
            int rows = 1 + rng.nextInt(30);
            int dim = 1 + rng.nextInt(140);
            float[] w = new float[rows * dim];
            for (int r = 0; r < rows; r++) {
                double center = rng.nextGaussian() * 10;
                double spread = Math.exp(rng.nextGaussian() * 3);   // ranges from about 1e-3 to 1e4
                for (int j = 0; j < dim; j++) {
                    w[r * dim + j] = (float) (center + spread * rng.nextGaussian());
                }
            }
            try (Tensor weight = Torch.tensor(w, rows, dim);
                 QuantizedTable table = QuantizedTable.quantize(weight, QuantizedDType.QUINT8);
                 Tensor back = table.dequantize();
                 Tensor idx = Torch.arange(rows, DType.INT64);
                 Tensor looked = QuantizedOps.embedding(table, idx)) {
                float[] d = back.toFloatArray();
                float[] l = looked.toFloatArray();
                for (int r = 0; r < rows; r++) {
                    float maxAbs = 0;
                    for (int j = 0; j < dim; j++) {
                        maxAbs = Math.max(maxAbs, Math.abs(w[r * dim + j]));
                    }
                    double bound = table.scale(r) / 2.0 * (1 + 1e-4) + 1e-8 + 2 * Math.ulp(maxAbs);
                    for (int j = 0; j < dim; j++) {
                        int k = r * dim + j;
                        if (Math.abs((double) d[k] - w[k]) > bound || Float.compare(d[k], l[k]) != 0) {
                            fail("case " + c + " row " + r + " column " + j + ": " + w[k] + " came back as " + d[k]
                                    + " (lookup " + l[k] + "), bound " + bound + " (scale " + table.scale(r) + ")");
                        }
                    }
                }
            }
        }
    }

    /** The layouts measured below, with the mean cosine each must at least keep. */
    private static final QuantizedDType[] MEASURED = {QuantizedDType.QUINT8, QuantizedDType.QUINT4X2};

    /**
     * 4-bit rows: half a step, plus what float16 costs: the bias is the minimum rounded to float16 (elements near the
     * minimum may sit below it by that rounding, and code 0 cannot reach them), and the scale is rounded to float16
     * too (the top code 15 may fall short of the maximum by 15 times that rounding):
     *
     * <pre>
     *   |lookup - x| <= scale / 2 * (1 + 1e-3) + |bias - min| + 15 * max(0, (max - bias) / 15 - scale) + 2 ulp
     * </pre>
     */
    @Test
    void fourBitElementsAreWithinHalfAStepPlusTheFloat16Roundings() {
        SplittableRandom rng = new SplittableRandom(0x4B17_B0DL);
        for (int c = 0; c < 200; c++) {
            int rows = 1 + rng.nextInt(30);
            int dim = 2 * (1 + rng.nextInt(70));
            float[] w = new float[rows * dim];
            for (int r = 0; r < rows; r++) {
                double center = rng.nextGaussian() * 10;
                double spread = Math.exp(rng.nextGaussian() * 2);
                for (int j = 0; j < dim; j++) {
                    w[r * dim + j] = (float) (center + spread * rng.nextGaussian());
                }
            }
            try (Tensor weight = Torch.tensor(w, rows, dim);
                 QuantizedTable table = QuantizedTable.quantize(weight, QuantizedDType.QUINT4X2);
                 Tensor back = table.dequantize();
                 Tensor idx = Torch.arange(rows, DType.INT64);
                 Tensor looked = QuantizedOps.embedding(table, idx)) {
                float[] d = back.toFloatArray();
                float[] l = looked.toFloatArray();
                for (int r = 0; r < rows; r++) {
                    float min = Float.POSITIVE_INFINITY;
                    float max = Float.NEGATIVE_INFINITY;
                    float maxAbs = 0;
                    for (int j = 0; j < dim; j++) {
                        min = Math.min(min, w[r * dim + j]);
                        max = Math.max(max, w[r * dim + j]);
                        maxAbs = Math.max(maxAbs, Math.abs(w[r * dim + j]));
                    }
                    double s = table.scale(r);
                    double m = table.bias(r);
                    double bound = s / 2 * (1 + 1e-3) + Math.abs(m - min) + 15 * Math.max(0, (max - m) / 15 - s)
                            + 2 * Math.ulp(Math.max(maxAbs, (float) Math.abs(m)));
                    for (int j = 0; j < dim; j++) {
                        int k = r * dim + j;
                        if (Math.abs((double) d[k] - w[k]) > bound || Float.compare(d[k], l[k]) != 0) {
                            fail("case " + c + " row " + r + " column " + j + ": " + w[k] + " came back as " + d[k]
                                    + " (lookup " + l[k] + "), bound " + bound + " (scale " + s + ", bias " + m + ")");
                        }
                    }
                }
            }
        }
    }

    /** Measured on a 100,000 x 128 N(0, 1) table: printed for the README, and held to loose sanity limits. */
    @Test
    void printsWhatQuantizationCostsOnAnEmbeddingInitialisedTable() {
        int rows = 100_000;
        int dim = 128;
        for (QuantizedDType dtype : MEASURED) {
            try (Tensor weight = Torch.randn(new Generator(42), DType.FLOAT32, rows, dim);
                 QuantizedTable table = QuantizedTable.quantize(weight, dtype);
                 Tensor back = table.dequantize()) {
                float[] w = weight.toFloatArray();
                float[] d = back.toFloatArray();
                double maxAbs = 0;
                double sumAbs = 0;
                double sumStepFraction = 0;
                double worstRelativeRowError = 0;
                double sumCosine = 0;
                for (int r = 0; r < rows; r++) {
                    double dot = 0;
                    double nw = 0;
                    double nd = 0;
                    double err2 = 0;
                    double step = table.scale(r);
                    for (int j = 0; j < dim; j++) {
                        int k = r * dim + j;
                        double e = Math.abs((double) d[k] - w[k]);
                        maxAbs = Math.max(maxAbs, e);
                        sumAbs += e;
                        sumStepFraction += e / step;
                        dot += (double) d[k] * w[k];
                        nw += (double) w[k] * w[k];
                        nd += (double) d[k] * d[k];
                        err2 += e * e;
                    }
                    worstRelativeRowError = Math.max(worstRelativeRowError, Math.sqrt(err2 / nw));
                    sumCosine += dot / Math.sqrt(nw * nd);
                }
                long n = (long) rows * dim;
                System.out.printf(Locale.ROOT, "%s rows, %d x %d N(0,1) table: bytes per row %d (float32 %d); max "
                                + "abs error %.3g, mean abs error %.3g (%.3f of a step; uniform rounding gives 0.25), "
                                + "worst row relative L2 error %.3g, mean cosine(float row, dequantized row) %.6f%n",
                        dtype, rows, dim, table.rowBytes(), 4 * dim, maxAbs, sumAbs / n, sumStepFraction / n,
                        worstRelativeRowError, sumCosine / rows);
                double minCosine = dtype == QuantizedDType.QUINT8 ? 0.9999 : 0.98;
                assertTrue(sumStepFraction / n < 0.3 && sumCosine / rows > minCosine,
                        dtype + ": quantization lost too much");
            }
        }
    }
}
