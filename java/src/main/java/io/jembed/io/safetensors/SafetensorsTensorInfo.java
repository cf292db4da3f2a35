package io.jembed.io.safetensors;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: name, dtype, shape and where its bytes are. Offsets are validated by
 * {@link SafetensorsHeader}: {@code [fileOffset(), fileOffset() + byteLength())} always lies inside the file.
 *
 * <p>PyTorch equivalent: what {@code safe_open(...).get_slice(name)} reports ({@code get_dtype()},
 * {@code get_shape()}) plus the header's {@code data_offsets}. Immutable and thread-safe.
 */
public final class SafetensorsTensorInfo {
    private final String name;
    private final SafetensorsDType dtype;
    private final long[] shape;
    private final long numel;
    private final long begin;
    private final long end;
    private final long dataStart;

    SafetensorsTensorInfo(String name, SafetensorsDType dtype, long[] shape, long numel, long begin, long end,
                          long dataStart) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.numel = numel;
        this.begin = begin;
        this.end = end;
        this.dataStart = dataStart;
    }

    public String name() {
        return name;
    }

    public SafetensorsDType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return numel;
    }

    /** The header's first data offset: relative to {@link SafetensorsHeader#dataStart()}. */
    public long begin() {
        return begin;
    }

    /** The header's second data offset (exclusive), relative to {@link SafetensorsHeader#dataStart()}. */
    public long end() {
        return end;
    }

    /** The absolute position of the first byte in the file: what to map. */
    public long fileOffset() {
        return dataStart + begin;
    }

    /** {@code end() - begin()}, equal to {@code numel() * dtype().itemSize()}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + ": " + dtype + " " + Arrays.toString(shape) + " at [" + begin + ", " + end + ")";
    }
}
