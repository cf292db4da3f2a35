package io.jembed.optim;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;

/**
 * Flat element access to a floating-point tensor for the optimizers' update rules, which compute in double and
 * store in the tensor's dtype (so a float32 parameter is rounded once per stored value).
 */
final class Elements {
    private final Memory memory;
    private final boolean single;

    Elements(Tensor tensor) {
        this.memory = TensorInternals.memory(tensor);
        this.single = tensor.dtype() == DType.FLOAT32;
    }

    double get(long i) {
        return single ? memory.getFloat(4 * i) : memory.getDouble(8 * i);
    }

    void set(long i, double value) {
        if (single) {
            memory.putFloat(4 * i, (float) value);
        } else {
            memory.putDouble(8 * i, value);
        }
    }
}
