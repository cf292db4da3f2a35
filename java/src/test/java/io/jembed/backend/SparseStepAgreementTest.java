package io.jembed.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jembed.DType;
import io.jembed.Generator;
import io.jembed.SparseTensor;
import io.jembed.Tensor;
import io.jembed.Torch;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The fused native sparse optimizer steps give the Java reference's bits (same double arithmetic, same order). */
class SparseStepAgreementTest {

    @Test
    void nativeSparseStepsMatchJavaBitForBit() {
        Optional<Backend> found = Backends.nativeBackend();
        assumeTrue(found.isPresent(), "native backend unavailable in this pass");
        Backend nativeBackend = found.get();
        Generator g = new Generator(17);
        for (DType type : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (long dim : new long[] {1, 7, 64}) {
                for (boolean maximize : new boolean[] {false, true}) {
                    try (Tensor param = Torch.randn(g, type, 40, dim);
                         Tensor state1 = Torch.rand(g, type, 40, dim);
                         Tensor state2 = Torch.rand(g, type, 40, dim);
                         Tensor idx = BackendAgreementTest.randomIndices(g, DType.INT64, 40, 30);
                         Tensor values = Torch.randn(g, type, 30, dim);
                         SparseTensor raw = new SparseTensor(Torch.tensor(idx.toLongArray(), 1, 30), values.clone(),
                                 new long[] {40, dim});
                         SparseTensor unique = raw.coalesce()) {
                        String what = type + " dim " + dim + (maximize ? " maximize" : "");
                        Tensor[] java = {param.clone(), state1.clone(), state2.clone()};
                        Tensor[] fused = {param.clone(), state1.clone(), state2.clone()};
                        Backends.java().sparseAdd(java[0], raw, -0.3);
                        nativeBackend.sparseAdd(fused[0], raw, -0.3);
                        Backends.java().sparseAdagrad(java[0], java[1], unique, 0.1, 1e-10, maximize);
                        nativeBackend.sparseAdagrad(fused[0], fused[1], unique, 0.1, 1e-10, maximize);
                        Backends.java().sparseAdam(java[0], java[1], java[2], unique, 0.9, 0.999, 0.01, 1e-8,
                                maximize);
                        nativeBackend.sparseAdam(fused[0], fused[1], fused[2], unique, 0.9, 0.999, 0.01, 1e-8,
                                maximize);
                        for (int t = 0; t < 3; t++) {
                            assertArrayEquals(java[t].toDoubleArray(), fused[t].toDoubleArray(), 0, what + " #" + t);
                            java[t].close();
                            fused[t].close();
                        }
                    }
                }
            }
        }
    }
}
