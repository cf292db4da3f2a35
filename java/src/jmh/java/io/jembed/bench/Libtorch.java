package io.jembed.bench;

import io.jembed.Tensor;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/** libtorch 2.10 from Java (org.bytedeco:pytorch), the peer in the benchmarks. */
final class Libtorch {
    private Libtorch() {}

    /** {@code libtorch-1t} runs libtorch on one intra-op thread, {@code libtorch} on its default thread count. */
    static void configure(String impl) {
        if (impl.equals("libtorch-1t")) {
            torch.set_num_threads(1);
        }
    }

    static org.bytedeco.pytorch.Tensor floats(float[] values, long... shape) {
        org.bytedeco.pytorch.Tensor t = torch.empty(shape, new TensorOptions(torch.ScalarType.Float),
                new MemoryFormatOptional());
        t.data_ptr_float().put(values);
        return t;
    }

    static org.bytedeco.pytorch.Tensor longs(long[] values) {
        org.bytedeco.pytorch.Tensor t = torch.empty(new long[] {values.length}, new TensorOptions(torch.ScalarType.Long),
                new MemoryFormatOptional());
        t.data_ptr_long().put(values);
        return t;
    }

    static org.bytedeco.pytorch.Tensor copyOf(Tensor t) {
        return floats(t.toFloatArray(), t.shape());
    }
}
