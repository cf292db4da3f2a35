package io.jembed.backend;

import io.jembed.DType;
import io.jembed.internal.nativebinding.JembedNative;

/** The native EmbeddingBag kernel of a float16 or bfloat16 table, chosen by format and index width. */
final class HalfKernels {
    private HalfKernels() {}

    static long bag(DType type, boolean wide, long table, long rows, long dim, long idx, long n, long off, long count,
                    long bagSize, long psw, long paddingIdx, int code, int flags, long target, long winners) {
        if (type == DType.FLOAT16) {
            return wide ? JembedNative.embeddingBagF16I64(table, rows, dim, idx, n, off, count, bagSize, psw,
                    paddingIdx, code, flags, target, winners)
                    : JembedNative.embeddingBagF16I32(table, rows, dim, idx, n, off, count, bagSize, psw,
                    paddingIdx, code, flags, target, winners);
        }
        return wide ? JembedNative.embeddingBagBf16I64(table, rows, dim, idx, n, off, count, bagSize, psw,
                paddingIdx, code, flags, target, winners)
                : JembedNative.embeddingBagBf16I32(table, rows, dim, idx, n, off, count, bagSize, psw,
                paddingIdx, code, flags, target, winners);
    }
}
