package io.jembed.reference;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.EmbeddingOptions;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.T_TensorTensorTensorTensor_T;
import org.bytedeco.pytorch.global.torch;

/**
 * The reference: libtorch 2.10 (CPU, through org.bytedeco:pytorch), behind a few calls that take and return jembed
 * tensors, so that the tests never see a libtorch object.
 *
 * <p>Every call copies its arguments into fresh libtorch tensors, runs the libtorch operator, copies the result back
 * into a new jembed tensor (owned by the caller) and frees every libtorch object it made before returning (a
 * {@link PointerScope} per call). Copies are bitwise in both directions (JNI array region copies), so NaN payloads,
 * signed zeros and subnormals reach libtorch and come back unchanged.
 *
 * <p>libtorch runs with one intra-op thread, so that its reductions (the row norms of {@code embedding_renorm_}) are
 * deterministic and sequential. Its default generator is global state: the tests that seed it run on one thread
 * (Surefire runs test classes one after another in a pass), and every method here is {@code synchronized} anyway.
 *
 * <p>libtorch's native libraries load once per JVM, when this class initialises (a second or two).
 */
final class Libtorch {
    static {
        torch.set_num_threads(1);
    }

    private Libtorch() {}

    /** Forces the one-time load of libtorch; call it from {@code @BeforeAll} so that no test times the load. */
    static synchronized int threads() {
        return torch.get_num_threads();
    }

    // ---- the embedding operators ---------------------------------------------------------------------------

    /**
     * {@code torch::embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse)}: what
     * {@code F.embedding} computes in the forward (padding_idx already normalised; -1 for none).
     */
    static synchronized Tensor embedding(Tensor weight, Tensor indices, long paddingIdx, boolean scaleGradByFreq,
                                         boolean sparse) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor out = torch.embedding(toLibtorch(weight), toLibtorch(indices), paddingIdx,
                    scaleGradByFreq, sparse);
            return toJembed(out);
        }
    }

    /**
     * {@code torch.tensor(values).reshape(shape)}: libtorch's reading of a flat tensor in an explicit shape
     * ({@code shape} empty: 0-d). Throws libtorch's own exception for a shape that does not fit.
     */
    static synchronized Tensor reshape(Tensor values, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            return toJembed(toLibtorch(values).reshape(shape));
        }
    }

    /** The weight after {@code embedding_renorm_}, and the lookup in it; both new jembed tensors. */
    static final class Renormed implements AutoCloseable {
        final Tensor weight;
        final Tensor out;

        Renormed(Tensor weight, Tensor out) {
            this.weight = weight;
            this.out = out;
        }

        @Override
        public void close() {
            weight.close();
            out.close();
        }
    }

    /**
     * What {@code F.embedding(input, weight, max_norm=maxNorm, norm_type=normType)} does in PyTorch: on a libtorch
     * copy of {@code weight}, {@code torch::embedding_renorm_(weight, indices, max_norm, norm_type)} and then
     * {@code torch::embedding(weight, indices)}. {@code weight} itself is not modified.
     */
    static synchronized Renormed renormThenEmbedding(Tensor weight, Tensor indices, double maxNorm, double normType) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor w = toLibtorch(weight);
            org.bytedeco.pytorch.Tensor idx = toLibtorch(indices);
            torch.embedding_renorm_(w, idx, maxNorm, normType);
            org.bytedeco.pytorch.Tensor out = torch.embedding(w, idx, -1, false, false);
            return new Renormed(toJembed(w), toJembed(out));
        }
    }

    /**
     * {@code weight[i].norm(normType).item<double>()} for every row i: exactly the value that
     * {@code embedding_renorm_} compares with {@code max_norm}.
     */
    static synchronized double[] rowNorms(Tensor weight, double normType) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor w = toLibtorch(weight);
            double[] norms = new double[Math.toIntExact(weight.size(0))];
            Scalar p = new Scalar(normType);
            for (int i = 0; i < norms.length; i++) {
                norms[i] = w.select(0, i).norm(p).item_double();
            }
            return norms;
        }
    }

    /**
     * {@code torch.topk(F.cosine_similarity(weight, query[None, :], dim=1, eps=eps), k)}: the values and the
     * indices, as new jembed tensors (index 0 and 1 of the result).
     */
    static synchronized Tensor[] cosineTopK(Tensor weight, Tensor query, long k, double eps) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor similarity = torch.cosine_similarity(toLibtorch(weight),
                    toLibtorch(query).unsqueeze(0), 1, eps);
            org.bytedeco.pytorch.T_TensorTensor_T top = torch.topk(similarity, k);
            return new Tensor[] {toJembed(top.get0()), toJembed(top.get1())};
        }
    }

    /** The four results of {@code at::embedding_bag}: output, offset2bag, bag_size, max_indices (new jembed tensors). */
    static final class Bagged implements AutoCloseable {
        final Tensor weight;
        final Tensor output;
        final Tensor bagSize;
        final Tensor maxIndices;

        Bagged(Tensor weight, Tensor output, Tensor bagSize, Tensor maxIndices) {
            this.weight = weight;
            this.output = output;
            this.bagSize = bagSize;
            this.maxIndices = maxIndices;
        }

        @Override
        public void close() {
            weight.close();
            output.close();
            bagSize.close();
            maxIndices.close();
        }
    }

    /**
     * What {@code F.embedding_bag} does in PyTorch on 1-D input, on a libtorch copy of {@code weight}: with
     * {@code maxNorm}, {@code torch::embedding_renorm_(weight, indices, max_norm, norm_type)}; then
     * {@code torch::embedding_bag(weight, indices, offsets, scale_grad_by_freq, mode, sparse, per_sample_weights,
     * include_last_offset, padding_idx)} (mode 0 sum, 1 mean, 2 max; padding_idx {@code null} for none). Returns the
     * weight afterwards and the operator's results.
     */
    static synchronized Bagged embeddingBag(Tensor weight, Tensor indices, Tensor offsets, Double maxNorm,
                                            double normType, boolean scaleGradByFreq, int mode, boolean sparse,
                                            Tensor perSampleWeights, boolean includeLastOffset, Long paddingIdx) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor w = toLibtorch(weight);
            org.bytedeco.pytorch.Tensor idx = toLibtorch(indices);
            if (maxNorm != null) {
                torch.embedding_renorm_(w, idx, maxNorm, normType);
            }
            TensorOptional psw = perSampleWeights == null ? new TensorOptional()
                    : new TensorOptional(toLibtorch(perSampleWeights));
            LongOptional padding = paddingIdx == null ? new LongOptional() : new LongOptional(paddingIdx);
            T_TensorTensorTensorTensor_T r = torch.embedding_bag(w, idx, toLibtorch(offsets), scaleGradByFreq, mode,
                    sparse, psw, includeLastOffset, padding);
            return new Bagged(toJembed(w), toJembed(r.get0()), toJembed(r.get2()), toJembed(r.get3()));
        }
    }

    /** {@code t.to(dtype)}: libtorch's own conversion (vectorised, as PyTorch's {@code .to()} runs it). */
    static synchronized Tensor convert(Tensor t, DType dtype) {
        try (PointerScope scope = new PointerScope()) {
            return toJembed(toLibtorch(t).to(scalarType(dtype)));
        }
    }

    // ---- random numbers ------------------------------------------------------------------------------------

    /** {@code torch::manual_seed(seed)}: reseeds libtorch's default CPU generator. */
    static synchronized void manualSeed(long seed) {
        torch.manual_seed(seed);
    }

    /** PyTorch's {@code default_rng_seed_val}, the seed of a generator nobody has seeded. */
    static long defaultSeed() {
        return torch.default_rng_seed_val();
    }

    /** {@code torch::empty(shape, dtype).uniform_(from, to)} from the default generator (no reseeding). */
    static synchronized Tensor uniform(DType dtype, double from, double to, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = empty(dtype, shape);
            t.uniform_(from, to, new GeneratorOptional());
            return toJembed(t);
        }
    }

    /** {@code torch::empty(shape, dtype).normal_(mean, std)} from the default generator (no reseeding). */
    static synchronized Tensor normal(DType dtype, double mean, double std, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = empty(dtype, shape);
            t.normal_(mean, std, new GeneratorOptional());
            return toJembed(t);
        }
    }

    /** {@code torch::randn(shape, dtype)} from the default generator (no reseeding). */
    static synchronized Tensor randn(DType dtype, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            return toJembed(torch.randn(shape, new TensorOptions(scalarType(dtype))));
        }
    }

    /**
     * {@code torch::rand(shape, generator=g)} (float32) from a generator nobody has seeded:
     * {@code at::detail::createCPUGenerator()}, i.e. seeded with {@code default_rng_seed_val}.
     */
    static synchronized Tensor randFromFreshGenerator(DType dtype, long... shape) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor t = empty(dtype, shape);
            t.uniform_(0, 1, new GeneratorOptional(torch.createCPUGenerator()));
            return toJembed(t);
        }
    }

    /**
     * The weight of {@code torch::nn::Embedding(EmbeddingOptions(numEmbeddings, embeddingDim).padding_idx(p))} built
     * right after {@code torch::manual_seed(seed)}: the C++ module's {@code reset_parameters()} ({@code normal_}, then
     * the padding row zeroed).
     */
    static synchronized Tensor embeddingModuleWeight(long seed, long numEmbeddings, long embeddingDim,
                                                     Long paddingIdx) {
        try (PointerScope scope = new PointerScope()) {
            EmbeddingOptions options = new EmbeddingOptions(numEmbeddings, embeddingDim);
            if (paddingIdx != null) {
                options.padding_idx().put(paddingIdx);
            }
            torch.manual_seed(seed);
            EmbeddingImpl module = new EmbeddingImpl(options);
            return toJembed(module.weight());
        }
    }

    // ---- copies between jembed and libtorch ----------------------------------------------------------------

    private static org.bytedeco.pytorch.Tensor empty(DType dtype, long... shape) {
        return torch.empty(shape, new TensorOptions(scalarType(dtype)), new MemoryFormatOptional());
    }

    /** A new libtorch tensor with the same dtype, shape and bits. Attached to the caller's PointerScope. */
    static org.bytedeco.pytorch.Tensor toLibtorch(Tensor t) {
        if (t.dtype().isReducedPrecision()) {
            // Bits through an int16 tensor of the same shape, viewed as the 16-bit floating type.
            org.bytedeco.pytorch.Tensor bits = torch.empty(t.shape(), new TensorOptions(torch.ScalarType.Short),
                    new MemoryFormatOptional());
            if (t.numel() > 0) {
                bits.data_ptr_short().put(io.jembed.HalfTensors.toBits(t));
            }
            return bits.view(scalarType(t.dtype()));
        }
        org.bytedeco.pytorch.Tensor copy = empty(t.dtype(), t.shape());
        if (t.numel() == 0) {
            return copy;
        }
        switch (t.dtype()) {
            case FLOAT32: copy.data_ptr_float().put(t.toFloatArray()); break;
            case FLOAT64: copy.data_ptr_double().put(t.toDoubleArray()); break;
            case INT32: copy.data_ptr_int().put(t.toIntArray()); break;
            case INT64: copy.data_ptr_long().put(t.toLongArray()); break;
            default: throw new AssertionError(t.dtype());
        }
        return copy;
    }

    /** A new jembed tensor with the same dtype, shape and bits. */
    static Tensor toJembed(org.bytedeco.pytorch.Tensor t) {
        org.bytedeco.pytorch.Tensor c = t.contiguous();
        DType dtype = dtype(c.scalar_type().intern());
        long[] shape = new long[Math.toIntExact(c.dim())];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = c.size(d);
        }
        int n = Math.toIntExact(c.numel());
        if (dtype.isReducedPrecision()) {
            short[] bits = new short[n];
            if (n > 0) {
                c.view(torch.ScalarType.Short).data_ptr_short().get(bits);
            }
            return io.jembed.HalfTensors.fromBits(dtype, bits, shape);
        }
        Tensor copy = Torch.empty(dtype, shape);
        if (n == 0) {
            return copy;
        }
        switch (dtype) {
            case FLOAT32: {
                float[] values = new float[n];
                c.data_ptr_float().get(values);
                return copy.copyFrom(values);
            }
            case FLOAT64: {
                double[] values = new double[n];
                c.data_ptr_double().get(values);
                return copy.copyFrom(values);
            }
            case INT32: {
                int[] values = new int[n];
                c.data_ptr_int().get(values);
                return copy.copyFrom(values);
            }
            case INT64: {
                long[] values = new long[n];
                c.data_ptr_long().get(values);
                return copy.copyFrom(values);
            }
            default: throw new AssertionError(dtype);
        }
    }

    private static torch.ScalarType scalarType(DType dtype) {
        switch (dtype) {
            case FLOAT32: return torch.ScalarType.Float;
            case FLOAT64: return torch.ScalarType.Double;
            case INT32: return torch.ScalarType.Int;
            case INT64: return torch.ScalarType.Long;
            case FLOAT16: return torch.ScalarType.Half;
            case BFLOAT16: return torch.ScalarType.BFloat16;
            default: throw new IllegalArgumentException("no libtorch counterpart for " + dtype);
        }
    }

    /** {@code scalarType} must be {@code intern()}ed: JavaCPP returns enum values from native code as new objects. */
    private static DType dtype(torch.ScalarType scalarType) {
        switch (scalarType) {
            case Float: return DType.FLOAT32;
            case Double: return DType.FLOAT64;
            case Int: return DType.INT32;
            case Long: return DType.INT64;
            case Half: return DType.FLOAT16;
            case BFloat16: return DType.BFLOAT16;
            default: throw new IllegalArgumentException("no jembed counterpart for libtorch's " + scalarType);
        }
    }
}
