package io.jembed.nn;

/**
 * How {@code EmbeddingBag} reduces the rows of a bag.
 *
 * <p>PyTorch equivalent: the {@code mode} argument of {@code nn.EmbeddingBag} and {@code F.embedding_bag}
 * ({@code 'sum'}, {@code 'mean'}, {@code 'max'}; C++: {@code torch::kSum}, {@code torch::kMean}, {@code torch::kMax}).
 *
 * <p>Immutable and thread-safe.
 */
public enum EmbeddingBagMode {
    /** The (per-sample-weighted) sum of the bag's rows. */
    SUM("sum"),
    /** The sum of the bag's rows divided by their number (padding entries not counted). */
    MEAN("mean"),
    /** The element-wise maximum of the bag's rows. */
    MAX("max");

    private final String pythonName;

    EmbeddingBagMode(String pythonName) {
        this.pythonName = pythonName;
    }

    /** PyTorch's spelling: {@code sum}, {@code mean} or {@code max}. */
    public String pythonName() {
        return pythonName;
    }

    /**
     * The mode PyTorch names {@code name}.
     *
     * @throws IllegalArgumentException for any other name, with PyTorch's message
     */
    public static EmbeddingBagMode fromPythonName(String name) {
        for (EmbeddingBagMode mode : values()) {
            if (mode.pythonName.equals(name)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("mode has to be one of sum, mean or max, got '" + name + "'");
    }
}
