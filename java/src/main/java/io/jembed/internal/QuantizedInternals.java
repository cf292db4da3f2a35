package io.jembed.internal;

import io.jembed.internal.memory.Memory;
import io.jembed.quantized.QuantizedDType;
import io.jembed.quantized.QuantizedTable;

/**
 * Gives jembed's own packages (the file readers) what {@link QuantizedTable} keeps from users: its bytes, and tables
 * made around memory they filled or mapped. Not API.
 *
 * <p>Thread-safe.
 */
public final class QuantizedInternals {
    /** Implemented by {@link QuantizedTable}, which installs it when its class initialises. */
    public interface Access {
        Memory memory(QuantizedTable table);

        QuantizedTable wrap(Memory memory, long rows, long dim, QuantizedDType dtype);
    }

    private static volatile Access access;

    private QuantizedInternals() {}

    public static void install(Access installed) {
        access = installed;
    }

    private static Access access() {
        Access current = access;
        if (current == null) {
            try {
                Class.forName(QuantizedTable.class.getName(), true, QuantizedTable.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            current = access;
        }
        return current;
    }

    /** The table's bytes, {@code rows x rowBytes}, in PyTorch's prepacked layout. */
    public static Memory memory(QuantizedTable table) {
        return access().memory(table);
    }

    /**
     * A table that owns {@code memory}, which holds {@code rows} prepacked rows of {@code dim} elements (checked:
     * the memory must be at least that large).
     */
    public static QuantizedTable wrap(Memory memory, long rows, long dim, QuantizedDType dtype) {
        return access().wrap(memory, rows, dim, dtype);
    }
}
