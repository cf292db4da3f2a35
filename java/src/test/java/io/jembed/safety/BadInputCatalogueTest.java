package io.jembed.safety;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.nn.Embedding;
import io.jembed.nn.EmbeddingBag;
import io.jembed.nn.EmbeddingBagFromPretrainedOptions;
import io.jembed.nn.EmbeddingBagMode;
import io.jembed.nn.EmbeddingBagOptions;
import io.jembed.nn.EmbeddingFromPretrainedOptions;
import io.jembed.nn.EmbeddingOptions;
import io.jembed.nn.functional.F;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What jembed rejects: one row per bad argument, with the exception type, a fragment of its message (which names the
 * bad value and the valid range) and the check that the table is unchanged afterwards. The README links this file as
 * the list of rejected inputs.
 *
 * <p>Every row runs against a fresh 10 x 3 table with {@code max_norm} set (so that a call that renormalised before
 * failing would show) and a plain one.
 */
class BadInputCatalogueTest {

    /** What a row does to the fixture. */
    @FunctionalInterface
    interface Call {
        void run(Fixture f);
    }

    /** A 10 x 3 float table (rows with large norms), a module with max_norm over it, and a plain module. */
    static final class Fixture implements AutoCloseable {
        final Tensor weight = Torch.tensor(new float[] {
            3, 4, 0, 6, 8, 0, 1, 1, 1, 5, 5, 5, 9, 0, 0, 0, 9, 0, 2, 2, 2, 7, 7, 7, 1, 2, 3, 4, 5, 6}, 10, 3);
        final Embedding renorming = Embedding.fromPretrained(weight,
                new EmbeddingFromPretrainedOptions().maxNorm(1.0));
        final Embedding plain = Embedding.fromPretrained(weight);
        final EmbeddingBag bagRenorming = EmbeddingBag.fromPretrained(weight,
                new EmbeddingBagFromPretrainedOptions().maxNorm(1.0).mode("sum"));
        final EmbeddingBag bagPlain = EmbeddingBag.fromPretrained(weight);
        final Tensor closed = Torch.tensor(new long[] {1});

        Fixture() {
            closed.close();
        }

        @Override
        public void close() {
            weight.close();
        }
    }

    static Stream<Arguments> catalogue() {
        List<Arguments> rows = new ArrayList<>();
        // ---- indices
        add(rows, "index equal to num_embeddings", IndexOutOfBoundsException.class, "index 10 at position [1]",
                f -> f.renorming.forward(Torch.tensor(new long[] {0, 10})));
        add(rows, "index far above the table", IndexOutOfBoundsException.class, "valid indices are 0 to 9",
                f -> f.plain.forward(Torch.tensor(new long[] {1L << 40})));
        add(rows, "negative index -1 (only padding_idx wraps)", IndexOutOfBoundsException.class, "index -1",
                f -> f.renorming.forward(Torch.tensor(new long[] {2, -1})));
        add(rows, "Long.MIN_VALUE index", IndexOutOfBoundsException.class, "index " + Long.MIN_VALUE,
                f -> f.renorming.forward(Torch.tensor(new long[] {Long.MIN_VALUE})));
        add(rows, "negative int32 index", IndexOutOfBoundsException.class, "index -7",
                f -> f.renorming.forward(Torch.tensor(new int[] {1, -7})));
        add(rows, "int32 index too large", IndexOutOfBoundsException.class, "index 2147483647",
                f -> f.plain.forward(Torch.tensor(new int[] {Integer.MAX_VALUE})));
        add(rows, "bad index deep in a 3-D input names its position", IndexOutOfBoundsException.class,
                "index 11 at position [1, 0, 1]",
                f -> f.renorming.forward(Torch.tensor(new long[] {0, 1, 2, 3, 4, 11, 6, 7}, 2, 2, 2)));
        add(rows, "bad 0-d index", IndexOutOfBoundsException.class, "index 99 at position []",
                f -> f.renorming.forward(Torch.scalarTensor(99)));
        add(rows, "float indices", IllegalArgumentException.class,
                "scalar types: Long, Int; but got torch.FloatTensor",
                f -> f.renorming.forward(Torch.tensor(new float[] {1})));
        add(rows, "double indices", IllegalArgumentException.class, "but got torch.DoubleTensor",
                f -> f.plain.forward(Torch.tensor(new double[] {1})));
        add(rows, "null input", IllegalArgumentException.class, "'input' must not be null",
                f -> f.plain.forward(null));
        add(rows, "closed input", IllegalStateException.class, "'input' has been closed",
                f -> f.renorming.forward(f.closed));
        add(rows, "any index in a table without rows", IndexOutOfBoundsException.class, "the weight has no rows",
                f -> F.embedding(Torch.tensor(new long[] {0}), Torch.empty(DType.FLOAT32, 0, 3)));
        // ---- F.embedding arguments
        add(rows, "1-D weight", IllegalArgumentException.class, "'weight' must be 2-D, but got a 1-D tensor",
                f -> F.embedding(Torch.tensor(new long[] {0}), Torch.tensor(new float[] {1, 2})));
        add(rows, "3-D weight", IllegalArgumentException.class, "shape [1, 1, 1]",
                f -> F.embedding(Torch.tensor(new long[] {0}), Torch.zeros(DType.FLOAT32, 1, 1, 1)));
        add(rows, "0-d weight", IllegalArgumentException.class, "'weight' must be 2-D, but got a 0-D tensor",
                f -> F.embedding(Torch.tensor(new long[] {0}), Torch.scalarTensor(1.0, DType.FLOAT32)));
        add(rows, "null weight", IllegalArgumentException.class, "'weight' must not be null",
                f -> F.embedding(Torch.tensor(new long[] {0}), null));
        add(rows, "padding_idx = num_embeddings in F", IllegalArgumentException.class,
                "Padding_idx must be within num_embeddings: got 10, expected a value in [-10, 9]",
                f -> F.embedding(Torch.tensor(new long[] {0}), f.weight, 10L, 1.0, 2.0, false, false));
        add(rows, "padding_idx below -num_embeddings in F", IllegalArgumentException.class, "got -11",
                f -> F.embedding(Torch.tensor(new long[] {0}), f.weight, -11L, 1.0, 2.0, false, false));
        add(rows, "negative max_norm", IllegalArgumentException.class, "max_norm must be >= 0 (or absent), got -1.0",
                f -> F.embedding(Torch.tensor(new long[] {0}), f.weight, null, -1.0, 2.0, false, false));
        add(rows, "NaN max_norm", IllegalArgumentException.class, "got NaN",
                f -> F.embedding(Torch.tensor(new long[] {0}), f.weight, null, Double.NaN, 2.0, false, false));
        add(rows, "NaN norm_type", IllegalArgumentException.class, "norm_type must be a number",
                f -> F.embedding(Torch.tensor(new long[] {0}), f.weight, null, 1.0, Double.NaN, false, false));
        add(rows, "max_norm with an integer weight", IllegalArgumentException.class,
                "max_norm needs a floating-point weight, got torch.int64",
                f -> F.embedding(Torch.tensor(new long[] {0}), Torch.tensor(new long[][] {{1}}), null, 1.0, 2.0,
                        false, false));
        // ---- caller-provided output
        add(rows, "output of the wrong shape", IllegalArgumentException.class, "'out' must have shape [2, 3]",
                f -> f.renorming.forward(Torch.tensor(new long[] {0, 1}), Torch.empty(DType.FLOAT32, 2, 4)));
        add(rows, "output of the wrong rank", IllegalArgumentException.class, "got [6]",
                f -> f.renorming.forward(Torch.tensor(new long[] {0, 1}), Torch.empty(DType.FLOAT32, 6)));
        add(rows, "output of the wrong dtype", IllegalArgumentException.class,
                "'out' must have the weight's dtype torch.float32, got torch.float64",
                f -> f.renorming.forward(Torch.tensor(new long[] {0, 1}), Torch.empty(DType.FLOAT64, 2, 3)));
        add(rows, "output that is the weight", IllegalArgumentException.class, "must not be the weight",
                f -> f.renorming.forward(Torch.arange(10, DType.INT64), f.weight));
        add(rows, "closed output", IllegalStateException.class, "'out' has been closed", f -> {
            Tensor out = Torch.empty(DType.FLOAT32, 1, 3);
            out.close();
            f.renorming.forward(Torch.tensor(new long[] {0}), out);
        });
        add(rows, "null output", IllegalArgumentException.class, "'out' must not be null",
                f -> f.renorming.forward(Torch.tensor(new long[] {0}), null));
        // ---- module construction
        add(rows, "negative num_embeddings", IllegalArgumentException.class, "num_embeddings=-1",
                f -> new Embedding(-1, 3));
        add(rows, "negative embedding_dim", IllegalArgumentException.class, "embedding_dim=-5",
                f -> new Embedding(3, -5));
        add(rows, "padding_idx = num_embeddings", IllegalArgumentException.class,
                "Padding_idx must be within num_embeddings: got 25, expected a value in [-10, 9]",
                f -> new Embedding(new EmbeddingOptions(10, 3).paddingIdx(25)));
        add(rows, "padding_idx 0 of a table with no rows (PyTorch: IndexError when zeroing the row)",
                IndexOutOfBoundsException.class, "index 0 is out of bounds for dimension 0 with size 0",
                f -> new Embedding(new EmbeddingOptions(0, 3).paddingIdx(0)));
        add(rows, "padding_idx = -num_embeddings - 1", IllegalArgumentException.class, "got -25",
                f -> new Embedding(new EmbeddingOptions(10, 3).paddingIdx(-25)));
        add(rows, "integer dtype for a new module", IllegalArgumentException.class,
                "dtype must be floating point (float32, float64, float16 or bfloat16), got torch.int64",
                f -> new Embedding(new EmbeddingOptions(10, 3).dtype(DType.INT64)));
        add(rows, "module max_norm negative", IllegalArgumentException.class, "got -0.5",
                f -> new Embedding(new EmbeddingOptions(10, 3).maxNorm(-0.5)));
        add(rows, "module norm_type NaN", IllegalArgumentException.class, "got NaN",
                f -> new Embedding(new EmbeddingOptions(10, 3).normType(Double.NaN)));
        add(rows, "_weight of the wrong shape", IllegalArgumentException.class,
                "Shape of weight does not match num_embeddings and embedding_dim: expected [10, 4], got [10, 3]",
                f -> new Embedding(new EmbeddingOptions(10, 4).weight(f.weight)));
        add(rows, "from_pretrained of a 1-D tensor", IllegalArgumentException.class,
                "Embeddings parameter is expected to be 2-dimensional, got shape [3]",
                f -> Embedding.fromPretrained(Torch.tensor(new float[] {1, 2, 3})));
        add(rows, "from_pretrained with padding_idx out of range", IllegalArgumentException.class, "got 10",
                f -> Embedding.fromPretrained(f.weight, new EmbeddingFromPretrainedOptions().paddingIdx(10)));
        add(rows, "from_pretrained of a closed tensor", IllegalStateException.class, "'embeddings' has been closed",
                f -> {
                    Tensor gone = Torch.zeros(DType.FLOAT32, 2, 2);
                    gone.close();
                    Embedding.fromPretrained(gone);
                });
        add(rows, "setWeight of the wrong shape", IllegalArgumentException.class, "expected [10, 3], got [3, 10]",
                f -> f.plain.setWeight(Torch.zeros(DType.FLOAT32, 3, 10)));
        // ---- tensors
        add(rows, "negative dimension", IllegalArgumentException.class,
                "Trying to create tensor with negative dimension -2: [3, -2]",
                f -> Torch.zeros(DType.FLOAT32, 3, -2));
        add(rows, "element count overflowing long", IllegalArgumentException.class, "elements",
                f -> Torch.empty(DType.FLOAT32, Long.MAX_VALUE / 2, 4));
        add(rows, "byte size overflowing long", IllegalArgumentException.class, "needs more than",
                f -> Torch.empty(DType.FLOAT64, Long.MAX_VALUE / 4));
        add(rows, "data that does not fill the shape", IllegalArgumentException.class,
                "shape [2, 2] is invalid for input of size 3", f -> Torch.tensor(new float[] {1, 2, 3}, 2, 2));
        add(rows, "ragged 2-D array", IllegalArgumentException.class, "expected sequence of length 2 at dim 1 (got 1)",
                f -> Torch.tensor(new long[][] {{1, 2}, {3}}));
        add(rows, "copyFrom of the wrong length", IllegalArgumentException.class, "expected 30 values",
                f -> f.weight.copyFrom(new float[29]));
        add(rows, "copyFrom of the wrong type", IllegalArgumentException.class,
                "cannot copy torch.int64 values into a tensor of torch.float32", f -> f.weight.copyFrom(new long[30]));
        add(rows, "element index out of bounds", IndexOutOfBoundsException.class,
                "index 10 is out of bounds for dimension 0 with size 10", f -> f.weight.getDouble(10, 0));
        add(rows, "wrong number of element indices", IllegalArgumentException.class, "expected 2 indices",
                f -> f.weight.getDouble(1));
        add(rows, "normal_ with negative std", IllegalArgumentException.class, "std >= 0.0, but found std -1.0",
                f -> Torch.empty(DType.FLOAT32, 2).normal_(0, -1));
        add(rows, "uniform_ with from > to", IllegalArgumentException.class, "from=1.0 > to=0.0",
                f -> Torch.empty(DType.FLOAT32, 2).uniform_(1, 0));
        add(rows, "normal_ on an integer tensor", IllegalArgumentException.class, "needs a floating-point tensor",
                f -> Torch.empty(DType.INT64, 2).normal_(0, 1));
        add(rows, "item of a tensor with several elements", IllegalStateException.class,
                "a Tensor with 30 elements cannot be converted to Scalar", f -> f.weight.item());
        add(rows, "dimension out of range", IndexOutOfBoundsException.class,
                "expected to be in range of [-2, 1], but got 2", f -> f.weight.size(2));
        add(rows, "use of a closed tensor", IllegalStateException.class, "closed", f -> f.closed.toLongArray());
        add(rows, "forward after the module's own weight was closed", IllegalStateException.class,
                "weight has been closed", f -> {
                    Embedding own = new Embedding(3, 2);
                    own.close();
                    own.forward(Torch.tensor(new long[] {0}));
                });
        // ---- memory-mapped (read-only) tables
        add(rows, "in-place write into a memory-mapped table", UnsupportedOperationException.class,
                "read-only memory map of bytes 0 to 120 of", f -> mappedTable().fill_(0));
        add(rows, "max_norm lookup in a memory-mapped table", UnsupportedOperationException.class,
                "clone() it for a writable copy", f -> F.embedding(Torch.tensor(new long[] {1}), mappedTable(),
                        null, 1.0, 2.0, false, false));
        add(rows, "optimizer over a memory-mapped table", UnsupportedOperationException.class,
                "max_norm renorm, in-place operations) are refused",
                f -> new io.jembed.optim.SGD(List.of(mappedTable()), new io.jembed.optim.SGDOptions(0.1)));
        addBagRows(rows);
        addHalfRows(rows);
        return rows.stream();
    }

    /** A 10 x 3 float32 table mapped from a fresh temporary file (deleted when the JVM exits). */
    private static Tensor mappedTable() {
        try {
            java.nio.file.Path file = java.nio.file.Files.createTempFile("jembed-catalogue", ".f32");
            file.toFile().deleteOnExit();
            java.nio.file.Files.write(file, new byte[120]);
            return Torch.fromFile(file, DType.FLOAT32, 0, new long[] {10, 3});
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** EmbeddingBag's bad inputs: a 4-index input [0, 1, 2, 3] over the fixture's table unless a row says otherwise. */
    private static void addBagRows(List<Arguments> rows) {
        // ---- offsets (libtorch checks only the first and the last, and reads out of bounds on the rest)
        add(rows, "bag: first offset not 0", IllegalArgumentException.class,
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
                        + "However, got 1",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[] {1, 2})));
        add(rows, "bag: decreasing offsets", IllegalArgumentException.class,
                "offsets must be non-decreasing, but offsets[2] = 1 is less than offsets[1] = 3",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[] {0, 3, 1})));
        add(rows, "bag: negative offset in the middle", IllegalArgumentException.class, "offsets[1] = -1",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new int[] {0, -1, 2})));
        add(rows, "bag: last offset past the input", IllegalArgumentException.class,
                "offsets[-1] can not be greater than input's length 4 but got offsets[-1] of 5",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[] {0, 5})));
        add(rows, "bag: Long.MAX_VALUE offset", IllegalArgumentException.class,
                "but got offsets[-1] of " + Long.MAX_VALUE,
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[] {0, Long.MAX_VALUE})));
        add(rows, "bag: no offsets for a non-empty input", IllegalArgumentException.class,
                "offsets is empty, so there are no bags, but the input holds 4 indices",
                f -> f.bagRenorming.forward(bagInput(), Torch.empty(DType.INT64, 0)));
        add(rows, "bag: include_last_offset without offsets", IllegalArgumentException.class,
                "include_last_offset: number of offset should be at least 1",
                f -> F.embeddingBag(Torch.empty(DType.INT64, 0), f.weight, Torch.empty(DType.INT64, 0), 1.0, 2.0,
                        false, EmbeddingBagMode.SUM, false, null, true, null));
        add(rows, "bag: include_last_offset whose last offset is not the input's length",
                IllegalArgumentException.class, "must be the input's length 4, but got offsets[-1] of 2",
                f -> F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0, 2}), 1.0, 2.0, false,
                        EmbeddingBagMode.MEAN, false, null, true, null));
        add(rows, "bag: float offsets", IllegalArgumentException.class,
                "argument #1 'offsets' to have one of the following scalar types: Long, Int; but got "
                        + "torch.FloatTensor",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new float[] {0})));
        add(rows, "bag: closed offsets", IllegalStateException.class, "'offsets' has been closed",
                f -> f.bagRenorming.forward(bagInput(), f.closed));
        // ---- input shapes
        add(rows, "bag: 2-D input with offsets", IllegalArgumentException.class,
                "if input is 2D, then offsets has to be None",
                f -> f.bagRenorming.forward(Torch.tensor(new long[][] {{0, 1}}), Torch.tensor(new long[] {0})));
        add(rows, "bag: 1-D input without offsets", IllegalArgumentException.class,
                "offsets has to be a 1D Tensor but got None", f -> f.bagRenorming.forward(bagInput()));
        add(rows, "bag: 2-D offsets", IllegalArgumentException.class,
                "offsets has to be a 1D Tensor, but got Tensor of dimension 2",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[][] {{0}})));
        add(rows, "bag: 3-D input", IllegalArgumentException.class,
                "input has to be 1D or 2D Tensor, but got Tensor of dimension 3",
                f -> f.bagRenorming.forward(Torch.zeros(DType.INT64, 1, 1, 1)));
        add(rows, "bag: 0-d input", IllegalArgumentException.class, "but got Tensor of dimension 0",
                f -> f.bagRenorming.forward(Torch.scalarTensor(1)));
        add(rows, "bag: 2-D input with bags of length 0", IllegalArgumentException.class,
                "a 2-D input of shape [3, 0] has bags of length 0",
                f -> f.bagRenorming.forward(Torch.zeros(DType.INT64, 3, 0)));
        // ---- indices
        add(rows, "bag: index equal to num_embeddings", IndexOutOfBoundsException.class,
                "found idx to be 10 at position [1] of the input; valid indices are 0 to 9",
                f -> f.bagRenorming.forward(Torch.tensor(new long[] {0, 10}), Torch.tensor(new long[] {0})));
        add(rows, "bag: negative index", IndexOutOfBoundsException.class, "found idx to be -1 at position [0, 1]",
                f -> f.bagPlain.forward(Torch.tensor(new int[][] {{2, -1}})));
        add(rows, "bag: float indices (with max_norm, the renorm's check)", IllegalArgumentException.class,
                "argument #2 'indices' to have one of the following scalar types: Long, Int; but got "
                        + "torch.FloatTensor instead (while checking arguments for embedding_renorm_)",
                f -> f.bagRenorming.forward(Torch.tensor(new float[] {0}), Torch.tensor(new long[] {0})));
        add(rows, "bag: double indices", IllegalArgumentException.class,
                "argument #1 'indices' to have one of the following scalar types: Long, Int; but got "
                        + "torch.DoubleTensor instead (while checking arguments for embedding_bag)",
                f -> f.bagPlain.forward(Torch.tensor(new double[] {0}), Torch.tensor(new long[] {0})));
        // ---- per_sample_weights
        add(rows, "bag: per_sample_weights with mode mean", UnsupportedOperationException.class,
                "per_sample_weights is only supported for mode='sum' (got mode='mean')",
                f -> F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}), 1.0, 2.0, false,
                        EmbeddingBagMode.MEAN, false, Torch.ones(DType.FLOAT32, 4), false, null));
        add(rows, "bag: per_sample_weights with mode max", UnsupportedOperationException.class, "(got mode='max')",
                f -> F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}), 1.0, 2.0, false,
                        EmbeddingBagMode.MAX, false, Torch.ones(DType.FLOAT32, 4), false, null));
        add(rows, "bag: per_sample_weights of the wrong length", IllegalArgumentException.class,
                "If per_sample_weights ([5]) is not None, then it must have the same shape as the input ([4])",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[] {0}), Torch.ones(DType.FLOAT32, 5)));
        add(rows, "bag: flat per_sample_weights for a 2-D input", IllegalArgumentException.class,
                "If per_sample_weights ([4]) is not None, then it must have the same shape as the input ([2, 2])",
                f -> f.bagRenorming.forward(Torch.tensor(new long[][] {{0, 1}, {2, 3}}), null,
                        Torch.ones(DType.FLOAT32, 4)));
        add(rows, "bag: per_sample_weights of another dtype", IllegalArgumentException.class,
                "but type torch.FloatTensor does not equal torch.DoubleTensor",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[] {0}), Torch.ones(DType.FLOAT64, 4)));
        // ---- options
        add(rows, "bag: max with scale_grad_by_freq", IllegalArgumentException.class,
                "max mode does not support scaling the gradient by the frequency",
                f -> new EmbeddingBag(new EmbeddingBagOptions(10, 3).weight(f.weight).maxNorm(1).mode("max")
                        .scaleGradByFreq(true)).forward(bagInput(), Torch.tensor(new long[] {0})));
        add(rows, "bag: max with sparse", IllegalArgumentException.class, "max mode does not support sparse weights",
                f -> F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}), 1.0, 2.0, false,
                        EmbeddingBagMode.MAX, true, null, false, null));
        add(rows, "bag: null mode", IllegalArgumentException.class, "mode has to be one of sum, mean or max",
                f -> F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}), 1.0, 2.0, false, null, false,
                        null, false, null));
        add(rows, "bag: unknown mode name", IllegalArgumentException.class,
                "mode has to be one of sum, mean or max, got 'avg'",
                f -> new EmbeddingBagOptions(10, 3).mode("avg"));
        add(rows, "bag: F padding_idx = num_embeddings", IllegalArgumentException.class,
                "padding_idx must be within the number of embeddings, -10 through 9, but got 10",
                f -> F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}), 1.0, 2.0, false,
                        EmbeddingBagMode.SUM, false, null, false, 10L));
        add(rows, "bag: module padding_idx below -num_embeddings", IllegalArgumentException.class,
                "padding_idx must be within num_embeddings: got -11",
                f -> new EmbeddingBag(new EmbeddingBagOptions(10, 3).paddingIdx(-11)));
        add(rows, "bag: 3-D weight", IllegalArgumentException.class,
                "weight has to be a 2D Tensor, but got Tensor of dimension 3",
                f -> F.embeddingBag(bagInput(), Torch.zeros(DType.FLOAT32, 1, 1, 1), Torch.tensor(new long[] {0})));
        add(rows, "bag: integer weight", IllegalArgumentException.class,
                "'weight' to have one of the following scalar types: Half, BFloat16, Float, Double; but got "
                        + "torch.LongTensor",
                f -> F.embeddingBag(Torch.tensor(new long[] {0}), Torch.tensor(new long[][] {{1}}),
                        Torch.tensor(new long[] {0})));
        add(rows, "bag: negative max_norm", IllegalArgumentException.class, "max_norm must be >= 0",
                f -> F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}), -1.0, 2.0, false,
                        EmbeddingBagMode.SUM, false, null, false, null));
        add(rows, "bag: negative num_embeddings", IllegalArgumentException.class, "num_embeddings=-1",
                f -> new EmbeddingBag(-1, 3));
        add(rows, "bag: from_pretrained of a 1-D tensor", IllegalArgumentException.class,
                "Embeddings parameter is expected to be 2-dimensional, got shape [3]",
                f -> EmbeddingBag.fromPretrained(Torch.tensor(new float[] {1, 2, 3})));
        add(rows, "bag: _weight of the wrong shape", IllegalArgumentException.class,
                "expected [10, 4], got [10, 3]",
                f -> new EmbeddingBag(new EmbeddingBagOptions(10, 4).weight(f.weight)));
        // ---- caller-provided output and backward
        add(rows, "bag: output of the wrong shape", IllegalArgumentException.class,
                "'out' must have shape [2, 3] (bags, embedding_dim), got [2, 4]",
                f -> f.bagRenorming.forward(bagInput(), Torch.tensor(new long[] {0, 2}), null,
                        Torch.empty(DType.FLOAT32, 2, 4)));
        add(rows, "bag: output that is the weight", IllegalArgumentException.class, "must not be the weight",
                f -> f.bagRenorming.forward(Torch.arange(10, DType.INT64), Torch.arange(10, DType.INT64), null,
                        f.weight));
        add(rows, "bag: sparse gradient with scale_grad_by_freq fails at backward", UnsupportedOperationException.class,
                "embedding_backward: scale_grad_by_freq not supported with sparse gradients", f -> {
                    f.weight.requiresGrad_(true);
                    Tensor out = F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}), null, 2.0, true,
                            EmbeddingBagMode.SUM, true, null, false, null);
                    out.backward(Torch.ones(DType.FLOAT32, 1, 3));
                });
        add(rows, "bag: backward with a gradient of the wrong shape", IllegalArgumentException.class,
                "the gradient must have this tensor's shape [1, 3]", f -> {
                    f.weight.requiresGrad_(true);
                    Tensor out = F.embeddingBag(bagInput(), f.weight, Torch.tensor(new long[] {0}));
                    out.backward(Torch.ones(DType.FLOAT32, 3, 1));
                });
    }

    private static Tensor bagInput() {
        return Torch.tensor(new long[] {0, 1, 2, 3});
    }

    private static void add(List<Arguments> rows, String name, Class<? extends Throwable> type, String fragment,
                            Call call) {
        rows.add(Arguments.of(name, type, fragment, call));
    }

    /** float16 and bfloat16 tables: what they serve (lookups, bags) and what jembed refuses on them. */
    private static void addHalfRows(List<Arguments> rows) {
        add(rows, "half: max_norm on a float16 table", IllegalArgumentException.class,
                "max_norm is not supported for torch.float16 tensors",
                f -> F.embedding(Torch.tensor(new long[] {0}), f.weight.to(DType.FLOAT16),
                        new io.jembed.nn.functional.EmbeddingFuncOptions().maxNorm(1.0)));
        add(rows, "half: max_norm on a bfloat16 bag table", IllegalArgumentException.class,
                "max_norm is not supported for torch.bfloat16 tensors",
                f -> F.embeddingBag(bagInput(), f.weight.to(DType.BFLOAT16),
                        new io.jembed.nn.functional.EmbeddingBagFuncOptions().offsets(Torch.tensor(new long[] {0}))
                                .maxNorm(1.0)));
        add(rows, "half: a float16 weight that requires grad", IllegalArgumentException.class,
                "the gradient of embedding (the weight requires grad) is not supported for torch.float16", f -> {
                    Tensor w = f.weight.to(DType.FLOAT16);
                    w.requiresGrad_(true);
                    F.embedding(Torch.tensor(new long[] {0}), w);
                });
        add(rows, "half: a bfloat16 bag weight that requires grad", IllegalArgumentException.class,
                "the gradient of embedding_bag (an input requires grad) is not supported for torch.bfloat16", f -> {
                    Tensor w = f.weight.to(DType.BFLOAT16);
                    w.requiresGrad_(true);
                    F.embeddingBag(bagInput(), w, Torch.tensor(new long[] {0}));
                });
        add(rows, "half: an optimizer over a float16 parameter", IllegalArgumentException.class,
                "an optimizer step is not supported for torch.float16",
                f -> new io.jembed.optim.SGD(List.of(f.weight.to(DType.FLOAT16)),
                        new io.jembed.optim.SGDOptions(0.1)));
        add(rows, "half: embedding_dense_backward of a bfloat16 gradient", IllegalArgumentException.class,
                "embedding_backward is not supported for torch.bfloat16",
                f -> F.embeddingDenseBackward(Torch.zeros(DType.BFLOAT16, 1, 3), Torch.tensor(new long[] {0}), 10,
                        null, false));
        add(rows, "half: float16 per-sample weights for a float32 table", IllegalArgumentException.class,
                "does not equal torch.HalfTensor",
                f -> F.embeddingBag(bagInput(), f.weight, new io.jembed.nn.functional.EmbeddingBagFuncOptions()
                        .offsets(Torch.tensor(new long[] {0})).mode("sum")
                        .perSampleWeights(Torch.zeros(DType.FLOAT16, 4))));
        add(rows, "half: a float16 output for a float32 lookup", IllegalArgumentException.class,
                "'out' must have the weight's dtype torch.float32, got torch.float16",
                f -> F.embedding(Torch.tensor(new long[] {0}), f.weight, null, null, 2.0,
                        Torch.zeros(DType.FLOAT16, 1, 3)));
        add(rows, "half: bit patterns for a float32 tensor", IllegalArgumentException.class,
                "expected torch.float16 or torch.bfloat16, got torch.float32",
                f -> io.jembed.HalfTensors.fromBits(DType.FLOAT32, new short[3], 3));
        add(rows, "half: bit patterns that do not fill the shape", IllegalArgumentException.class,
                "holds 6 elements, but 3 bit patterns were given",
                f -> io.jembed.HalfTensors.fromBits(DType.FLOAT16, new short[3], 2, 3));
        add(rows, "half: float values for an integer tensor", IllegalArgumentException.class,
                "float values make a floating-point tensor, not torch.int64",
                f -> Torch.tensor(new float[] {1f}, DType.INT64));
        add(rows, "half: too few floats for a bfloat16 tensor", IllegalArgumentException.class,
                "expected 3 values for a tensor of shape", f -> Torch.zeros(DType.BFLOAT16, 3).copyFrom(new float[2]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogue")
    void rejectsWithAClearMessageAndChangesNothing(String name, Class<? extends Throwable> type, String fragment,
                                                   Call call) {
        try (Fixture f = new Fixture()) {
            float[] before = f.weight.toFloatArray();
            Throwable thrown = assertThrows(type, () -> call.run(f), name);
            assertTrue(thrown.getMessage() != null && thrown.getMessage().contains(fragment),
                    () -> name + ": message '" + thrown.getMessage() + "' lacks '" + fragment + "'");
            assertArrayEquals(before, f.weight.toFloatArray(), name + ": the weight changed");
        }
    }

    /** Hostile files ({@link BadFileCatalogue}): a MalformedFileException naming the file and what is wrong. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.jembed.safety.BadFileCatalogue#rows")
    void refusesBadFilesNamingTheFileAndTheProblem(String name, String fragment, BadFileCatalogue.Case file)
            throws java.io.IOException {
        BadFileCatalogue.check(fragment, file);
    }

    /** Row-wise quantized tables ({@link QuantizedBadInputs}): the table's bytes and the caller's output unchanged. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.jembed.safety.QuantizedBadInputs#rows")
    void rejectsBadQuantizedInputWithAClearMessageAndChangesNothing(String name, Class<? extends Throwable> type,
                                                                    String fragment, QuantizedBadInputs.Call call) {
        QuantizedBadInputs.check(name, type, fragment, call);
    }

    @org.junit.jupiter.api.Test
    void catalogueHasAtLeastFortyRows() {
        assertTrue(catalogue().count() >= 40);
    }
}
