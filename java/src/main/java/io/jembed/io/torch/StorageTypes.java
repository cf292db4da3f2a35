package io.jembed.io.torch;

import io.jembed.internal.io.FileElement;
import java.util.Map;

/** The storage and dtype globals a checkpoint may name, and how jembed reads each storage type. */
final class StorageTypes {
    private StorageTypes() {}

    /** Storage type -> its element size in bytes. */
    private static final Map<String, Integer> SIZES = Map.ofEntries(
            Map.entry("torch.FloatStorage", 4), Map.entry("torch.DoubleStorage", 8),
            Map.entry("torch.HalfStorage", 2), Map.entry("torch.BFloat16Storage", 2),
            Map.entry("torch.IntStorage", 4), Map.entry("torch.LongStorage", 8),
            Map.entry("torch.ShortStorage", 2), Map.entry("torch.CharStorage", 1),
            Map.entry("torch.ByteStorage", 1), Map.entry("torch.BoolStorage", 1),
            Map.entry("torch.ComplexFloatStorage", 8), Map.entry("torch.ComplexDoubleStorage", 16),
            Map.entry("torch.QInt8Storage", 1), Map.entry("torch.QUInt8Storage", 1),
            Map.entry("torch.QInt32Storage", 4), Map.entry("torch.UntypedStorage", 1));

    private static final Map<String, FileElement> ELEMENTS = Map.of(
            "torch.FloatStorage", FileElement.F32, "torch.DoubleStorage", FileElement.F64,
            "torch.HalfStorage", FileElement.F16, "torch.BFloat16Storage", FileElement.BF16,
            "torch.IntStorage", FileElement.I32, "torch.LongStorage", FileElement.I64);

    static boolean isStorage(String global) {
        return SIZES.containsKey(global);
    }

    static boolean isDtype(String global) {
        return global.startsWith("torch.") && global.indexOf('.', 6) < 0 && (global.startsWith("torch.float")
                || global.startsWith("torch.int") || global.startsWith("torch.uint") || global.equals("torch.bool")
                || global.startsWith("torch.bfloat") || global.startsWith("torch.half")
                || global.startsWith("torch.double") || global.startsWith("torch.long")
                || global.startsWith("torch.complex"));
    }

    static int itemSize(String storage) {
        return SIZES.get(storage);
    }

    /** How jembed reads it, or null if it cannot. */
    static FileElement element(String storage) {
        return ELEMENTS.get(storage);
    }
}
