package io.jembed.internal.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps memory from being freed while a call uses it: the guarantee that closing a tensor another thread is reading
 * or writing never crashes the JVM (the JDK's shared arenas give the same for foreign memory).
 *
 * <p>Each thread has one guard, a stack of the {@link Memory} blocks its running calls hold. A call enters the guard
 * with every block it will touch (its weights, indices, outputs, gradients, optimizer state), works, and exits:
 * <pre>{@code
 * MemoryGuard guard = MemoryGuard.enter(table, indices, out);   // IllegalStateException if one is closed
 * try {
 *     ... native kernels or Java code on the three blocks ...
 * } finally {
 *     guard.exit();
 * }
 * }</pre>
 * {@link Memory#close()} marks the block closed, so that every later {@code enter} fails, and then waits until no
 * thread's guard holds it before it frees the memory. Helper threads that work for a call (the worker crew) need no
 * guard of their own: the calling thread holds the blocks until they are done.
 *
 * <p>The guard also keeps the blocks strongly reachable during the call, so the garbage collector cannot run their
 * cleaners while native code uses an address taken from them.
 *
 * <p>Cost: entering writes the thread's own stack (no shared counter, so threads on one table never contend) and
 * runs one full fence, the Dekker handshake with {@code close}: either the entering thread sees the block closed, or
 * the closing thread sees it held. Exiting is release stores only. Closing scans every live thread's guard.
 *
 * <p>Entries nest (a guarded call may call another); each {@code exit} pops its own {@code enter}. A guard is used by
 * its own thread only.
 */
public final class MemoryGuard {
    private static final VarHandle TOP;
    private static final VarHandle IDS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final ThreadLocal<MemoryGuard> CURRENT = ThreadLocal.withInitial(MemoryGuard::register);
    /**
     * A faster way to the calling thread's guard than the thread-local map (which cost several nanoseconds per call,
     * a large share of a small lookup): slot {@code threadId % SLOTS.length} holds the guard of the first live thread
     * with that slot. Thread ids are handed out in sequence, so a server's threads rarely share a slot; a thread
     * whose slot another live thread holds goes through the thread-local. Read-only after the first calls, so the
     * threads' cores share its cache lines without invalidations. Weak, like {@link #ALL}: the guard of a finished
     * thread (with its scratch block and the references left in its slots) goes with the thread.
     */
    @SuppressWarnings("unchecked")
    private static final WeakReference<MemoryGuard>[] SLOTS = (WeakReference<MemoryGuard>[]) new WeakReference<?>[1024];
    /** Every thread's guard; weak, so that the guards of finished threads go with their threads. */
    private static final List<WeakReference<MemoryGuard>> ALL = new ArrayList<>();
    private static volatile WeakReference<MemoryGuard>[] snapshot = newArray(0);

    static {
        try {
            TOP = MethodHandles.lookup().findVarHandle(MemoryGuard.class, "top", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // No padding: each guard (and its arrays) is allocated by its own thread, in that thread's allocation buffer, so
    // two threads' guards do not share cache lines.
    /**
     * The {@link Memory#id} of each held block (0 for none), slots [0, top); read by closing threads. Replaced by a
     * larger copy when full. Numbers, not references: a long store costs no garbage-collector write barrier.
     */
    private volatile long[] ids = new long[16];
    /**
     * The held blocks themselves, slot for slot with {@link #ids}, so that they stay strongly reachable during the
     * call; read by this thread only. {@link #enterKeptAliveByCaller} leaves them out.
     */
    private Memory[] held = new Memory[16];
    private int top;
    /** This thread's scratch memory (see {@link #scratch}), or null. */
    private Memory scratch;
    /** The value of {@code top} at each open {@code enter}, innermost last. */
    private int[] marks = new int[8];
    private int depth;

    /** The thread this guard belongs to. */
    private final Thread owner;

    private MemoryGuard(Thread owner) {
        this.owner = owner;
    }

    /** The calling thread's guard. */
    private static MemoryGuard current() {
        Thread thread = Thread.currentThread();
        WeakReference<MemoryGuard> ref = SLOTS[(int) thread.getId() & (SLOTS.length - 1)];
        MemoryGuard guard = ref == null ? null : ref.get();
        return guard != null && guard.owner == thread ? guard : currentSlowly(thread);
    }

    private static MemoryGuard currentSlowly(Thread thread) {
        MemoryGuard guard = CURRENT.get();
        int slot = (int) thread.getId() & (SLOTS.length - 1);
        synchronized (SLOTS) {
            MemoryGuard there = SLOTS[slot] == null ? null : SLOTS[slot].get();
            if (there == null || !there.owner.isAlive()) {
                SLOTS[slot] = new WeakReference<>(guard);
            }
        }
        return guard;
    }

    private static MemoryGuard register() {
        MemoryGuard guard = new MemoryGuard(Thread.currentThread());
        synchronized (ALL) {
            ALL.removeIf(ref -> ref.get() == null);
            ALL.add(new WeakReference<>(guard));
            snapshot = ALL.toArray(newArray(ALL.size()));
        }
        return guard;
    }

    @SuppressWarnings("unchecked")
    private static WeakReference<MemoryGuard>[] newArray(int n) {
        return (WeakReference<MemoryGuard>[]) new WeakReference<?>[n];
    }

    /**
     * Holds {@code a} (null is skipped) for the calling thread until {@link #exit()}.
     *
     * @throws IllegalStateException if the block has been closed
     */
    public static MemoryGuard enter(Memory a) {
        return enter(a, (Memory) null);
    }

    /** Holds two blocks (nulls are skipped); see {@link #enter(Memory)}. */
    public static MemoryGuard enter(Memory a, Memory b) {
        MemoryGuard guard = current();
        int t = guard.push(2);
        long[] ids = guard.ids;
        ids[t] = id(a);
        ids[t + 1] = id(b);
        Memory[] slots = guard.held;
        if (slots[t] != a) {
            slots[t] = a;
        }
        if (slots[t + 1] != b) {
            slots[t + 1] = b;
        }
        guard.publish(t + 2);
        // Non-short-circuit: both flags are read whatever the first says, so there is one branch, not two.
        if (closed(a) | closed(b)) {
            guard.fail();
        }
        return guard;
    }

    /**
     * Holds three blocks (nulls are skipped); see {@link #enter(Memory)}. The one-, two- and three-block forms are
     * written out rather than sent to the six-block one: a small lookup (table, indices, output) is where the
     * guard's price shows, and three slots fewer to compare, store and scan are a few nanoseconds of it.
     */
    public static MemoryGuard enter(Memory a, Memory b, Memory c) {
        MemoryGuard guard = current();
        int t = guard.push(3);
        long[] ids = guard.ids;
        ids[t] = id(a);
        ids[t + 1] = id(b);
        ids[t + 2] = id(c);
        Memory[] slots = guard.held;
        if (slots[t] != a) {
            slots[t] = a;
        }
        if (slots[t + 1] != b) {
            slots[t + 1] = b;
        }
        if (slots[t + 2] != c) {
            slots[t + 2] = c;
        }
        guard.publish(t + 3);
        if (closed(a) | closed(b) | closed(c)) {
            guard.fail();
        }
        return guard;
    }

    /**
     * Holds up to six blocks (nulls are skipped) without allocating; see {@link #enter(Memory)}. The shorter forms
     * come here: six slot stores cost less than a branch per arity.
     */
    public static MemoryGuard enter(Memory a, Memory b, Memory c, Memory d, Memory e, Memory f) {
        MemoryGuard guard = current();
        int t = guard.push(6);
        long[] ids = guard.ids;
        ids[t] = id(a);
        ids[t + 1] = id(b);
        ids[t + 2] = id(c);
        ids[t + 3] = id(d);
        ids[t + 4] = id(e);
        ids[t + 5] = id(f);
        Memory[] slots = guard.held;
        // A slot is written only when it changes: a reference store into this long-lived array costs the garbage
        // collector's write barrier (tens of nanoseconds with G1 once the card is cleaned), and a server's calls
        // pass the same table and output again and again.
        if (slots[t] != a) {
            slots[t] = a;
        }
        if (slots[t + 1] != b) {
            slots[t + 1] = b;
        }
        if (slots[t + 2] != c) {
            slots[t + 2] = c;
        }
        if (slots[t + 3] != d) {
            slots[t + 3] = d;
        }
        if (slots[t + 4] != e) {
            slots[t + 4] = e;
        }
        if (slots[t + 5] != f) {
            slots[t + 5] = f;
        }
        guard.publish(t + 6);
        if (closed(a) | closed(b) | closed(c) | closed(d) | closed(e) | closed(f)) {
            guard.fail();
        }
        return guard;
    }

    private static boolean closed(Memory m) {
        return m != null && m.isClosed();
    }

    private static long id(Memory m) {
        return m == null ? 0 : m.id;
    }

    /**
     * {@link #enter(Memory, Memory, Memory)} without keeping the blocks reachable through the guard: for the hot
     * path of a small lookup, whose request tensor changes with every call, so that recording it costs a long store
     * and not a reference store (with G1, a reference store into this long-lived guard runs the write barrier's full
     * fence, a second one per call). The caller must keep the three blocks' owners strongly reachable until after
     * {@link #exit()}, with {@link java.lang.ref.Reference#reachabilityFence}, or their cleaners could free the
     * memory under the call.
     */
    public static MemoryGuard enterKeptAliveByCaller(Memory a, Memory b, Memory c) {
        MemoryGuard guard = current();
        int t = guard.push(3);
        long[] ids = guard.ids;
        ids[t] = id(a);
        ids[t + 1] = id(b);
        ids[t + 2] = id(c);
        guard.publish(t + 3);
        if (closed(a) | closed(b) | closed(c)) {
            guard.fail();
        }
        return guard;
    }

    /** Holds any number of blocks (nulls are skipped); see {@link #enter(Memory)}. */
    public static MemoryGuard enter(Memory... blocks) {
        MemoryGuard guard = current();
        int t = guard.push(blocks.length);
        long[] ids = guard.ids;
        Memory[] slots = guard.held;
        for (int i = 0; i < blocks.length; i++) {
            ids[t + i] = id(blocks[i]);
            if (slots[t + i] != blocks[i]) {
                slots[t + i] = blocks[i];
            }
        }
        guard.publish(t + blocks.length);
        for (Memory block : blocks) {
            if (closed(block)) {
                guard.fail();
            }
        }
        return guard;
    }

    /** The largest scratch block a thread keeps between calls; larger requests get a block of their own. */
    public static final long SCRATCH_KEPT_BYTES = 64L << 10;

    /**
     * Native memory of at least {@code bytes} bytes that only this thread uses, kept between calls (up to
     * {@link #SCRATCH_KEPT_BYTES}): where a call copies a request that arrives in a Java array, so that native code
     * can read it without a copy per call from the JVM. Valid until this thread's next {@code scratch} call; never
     * closed by anyone else, so it needs no guard. Returns null if {@code bytes} exceeds the kept size.
     */
    public Memory scratch(long bytes) {
        if (bytes > SCRATCH_KEPT_BYTES) {
            return null;
        }
        Memory s = scratch;
        if (s == null || s.byteSize() < bytes) {
            Memory larger = Memory.allocate(Math.max(bytes, s == null ? 4096 : Math.min(SCRATCH_KEPT_BYTES,
                    2 * s.byteSize())));
            scratch = larger;
            if (s != null) {
                s.close();
            }
            s = larger;
        }
        return s;
    }

    /**
     * Releases the blocks of the innermost open {@code enter} of this thread. The slots above the new top keep their
     * references (closing threads look only below the top), so that the next call with the same tensors writes
     * nothing; they keep at most {@code held.length} blocks per thread reachable a little longer, which matters
     * only to blocks dropped without {@code close()}.
     */
    public void exit() {
        // A release store: every access the call made to its blocks happens before a closing thread sees them let go.
        TOP.setRelease(this, marks[--depth]);
    }

    /** Room for {@code n} more slots and one more mark; returns the first new slot. */
    private int push(int n) {
        int t = top;
        if (t + n > held.length) {
            int length = Math.max(2 * held.length, t + n);
            held = java.util.Arrays.copyOf(held, length);
            ids = java.util.Arrays.copyOf(ids, length); // volatile: a closing thread re-reads it on every look
        }
        if (depth == marks.length) {
            marks = java.util.Arrays.copyOf(marks, 2 * depth);
        }
        marks[depth++] = t;
        return t;
    }

    /**
     * Makes the new slots visible with a full fence: the entering half of the handshake with {@link #awaitRelease}.
     * One atomic exchange (x86: {@code xchg}) both stores the new top and fences, cheaper than a store followed by a
     * separate fence.
     */
    private void publish(int newTop) {
        TOP.getAndSet(this, newTop);
    }

    private void fail() {
        exit();
        throw new IllegalStateException("a tensor passed to this call has been closed");
    }

    /** True if this thread's running calls hold {@code memory}. */
    static boolean heldByCurrentThread(Memory memory) {
        MemoryGuard guard = current();
        long[] slots = guard.ids;
        for (int i = 0; i < guard.top; i++) {
            if (slots[i] == memory.id) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until no thread's guard holds {@code memory}, which the caller has already marked closed (so no new
     * {@code enter} can take it): the closing half of the handshake. Calls are short, so this spins a little, then
     * yields, then sleeps in short steps.
     */
    static void awaitRelease(Memory memory) {
        VarHandle.fullFence();
        for (WeakReference<MemoryGuard> ref : snapshot) {
            MemoryGuard guard = ref.get();
            if (guard == null) {
                continue;
            }
            for (int round = 0; guard.holds(memory); round++) {
                if (round < 100) {
                    Thread.onSpinWait();
                } else if (round < 200) {
                    Thread.yield();
                } else {
                    LockSupport.parkNanos(50_000);
                }
            }
            Reference.reachabilityFence(guard);
        }
    }

    /** Read by a closing thread, concurrently with the owner's pushes and pops. */
    private boolean holds(Memory memory) {
        int t = (int) TOP.getAcquire(this);
        long[] slots = ids;
        int n = Math.min(t, slots.length);
        for (int i = 0; i < n; i++) {
            if ((long) IDS.getAcquire(slots, i) == memory.id) {
                return true;
            }
        }
        return false;
    }
}
