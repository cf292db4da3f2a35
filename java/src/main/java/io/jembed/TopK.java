package io.jembed;

/**
 * The {@code k} largest values of a search and where they are, best first.
 *
 * <p>PyTorch equivalent: {@code torch.return_types.topk} ({@code values, indices = torch.topk(...)}).
 *
 * <p>Owns both tensors: {@link #close()} closes them. Not thread-safe to close while in use.
 */
public final class TopK implements AutoCloseable {
    private final Tensor values;
    private final Tensor indices;

    public TopK(Tensor values, Tensor indices) {
        if (values == null || indices == null) {
            throw new IllegalArgumentException("values and indices must not be null");
        }
        this.values = values;
        this.indices = indices;
    }

    /** The values, best first. PyTorch equivalent: {@code result.values}. */
    public Tensor values() {
        return values;
    }

    /** Their positions (int64). PyTorch equivalent: {@code result.indices}. */
    public Tensor indices() {
        return indices;
    }

    @Override
    public void close() {
        values.close();
        indices.close();
    }

    @Override
    public String toString() {
        return "torch.return_types.topk(\nvalues=" + values + ",\nindices=" + indices + ")";
    }
}
