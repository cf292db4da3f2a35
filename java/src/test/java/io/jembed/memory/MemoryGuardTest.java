package io.jembed.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jembed.DType;
import io.jembed.Tensor;
import io.jembed.Torch;
import io.jembed.internal.TensorInternals;
import io.jembed.internal.memory.Memory;
import io.jembed.internal.memory.MemoryGuard;
import io.jembed.nn.functional.F;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The memory guard's contract (issue 13, section 2), step by step with latches: a close that comes while another
 * thread holds the memory waits until that thread lets go, and only then frees it; a call that starts after a close
 * fails with IllegalStateException; a thread cannot close what its own running call holds; guards nest.
 */
class MemoryGuardTest {
    @Test
    void closeWaitsForTheThreadThatHoldsTheMemoryAndThenFreesIt() throws Exception {
        Memory memory = Memory.allocateZeroed(4096);
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Long> holder = pool.submit(() -> {
                MemoryGuard guard = MemoryGuard.enter(memory);
                try {
                    held.countDown();
                    assertTrue(release.await(30, TimeUnit.SECONDS));
                    memory.putLong(0, 42); // still writable: not freed under this thread
                    return memory.getLong(0);
                } finally {
                    guard.exit();
                }
            });
            assertTrue(held.await(30, TimeUnit.SECONDS));
            Future<?> closer = pool.submit(memory::close);
            Thread.sleep(300);
            assertFalse(closer.isDone(), "close() returned while another thread's call held the memory");
            assertTrue(memory.isClosed(), "the memory is marked closed at once, so new calls are refused");
            assertThrows(IllegalStateException.class, () -> MemoryGuard.enter(memory));
            release.countDown();
            assertEquals(42L, holder.get(30, TimeUnit.SECONDS));
            closer.get(30, TimeUnit.SECONDS);
            assertTrue(memory.isClosed());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void aTensorClosedBeforeACallMakesTheCallThrowIllegalStateException() {
        try (Tensor weight = Torch.zeros(DType.FLOAT32, 4, 2); Tensor out = Torch.empty(DType.FLOAT32, 1, 2)) {
            Tensor idx = Torch.tensor(new long[] {1});
            idx.close();
            assertThrows(IllegalStateException.class, () -> F.embedding(idx, weight, null, null, 2.0, out));
            weight.close();
            assertThrows(IllegalStateException.class, () -> F.embedding(new long[] {1}, weight, out));
            assertThrows(IllegalStateException.class, () -> TensorInternals.guard(weight));
        }
    }

    @Test
    void closingWhatTheSameThreadsRunningCallHoldsIsRefusedAndLeavesItOpen() {
        try (Tensor t = Torch.zeros(DType.FLOAT32, 8)) {
            MemoryGuard guard = TensorInternals.guard(t);
            try {
                IllegalStateException e = assertThrows(IllegalStateException.class, t::close);
                assertTrue(e.getMessage().contains("inside a call"), e.getMessage());
                assertFalse(t.isClosed());
            } finally {
                guard.exit();
            }
            t.close();
            assertTrue(t.isClosed());
        }
    }

    @Test
    void nestedGuardsReleaseInOrderAndTheOuterOneStillHolds() throws Exception {
        Memory outer = Memory.allocateZeroed(64);
        Memory inner = Memory.allocateZeroed(64);
        MemoryGuard first = MemoryGuard.enter(outer);
        MemoryGuard second = MemoryGuard.enter(inner, outer);
        second.exit();
        // The inner block is free to close now (from this thread, since no call holds it); the outer one is not.
        inner.close();
        assertTrue(inner.isClosed());
        assertThrows(IllegalStateException.class, outer::close);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> closer = pool.submit(outer::close);
            Thread.sleep(200);
            assertFalse(closer.isDone(), "the outer guard still holds the block");
            first.exit();
            closer.get(30, TimeUnit.SECONDS);
            assertTrue(outer.isClosed());
        } finally {
            pool.shutdownNow();
        }
    }
}
