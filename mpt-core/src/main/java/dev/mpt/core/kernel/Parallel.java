package dev.mpt.core.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The thread pool that mpt's kernels run on.
 *
 * <p>Kernels split their output into independent tasks and call {@link #forEach(int, IntConsumer)};
 * each output element is written by exactly one task with a fixed summation order, so results are
 * bit-identical for every thread count.
 *
 * <p>The number of threads is read once from the system property {@code mpt.threads} (default:
 * {@link Runtime#availableProcessors()}) and may be changed at any time with {@link #setThreads(int)}:
 * kernels already running finish on the pool they started on, which shuts down when the last of
 * them returns. Both accept {@code 1..}{@link #maxThreads()}. A malformed or out-of-range
 * {@code -Dmpt.threads} makes every kernel call throw an {@link IllegalStateException} naming the
 * property and its value, until {@link #setThreads(int)} replaces it: a typo in a launch command
 * fails loudly rather than running on a thread count nobody chose.
 */
public final class Parallel {

    /** System property naming the number of kernel threads. */
    public static final String THREADS_PROPERTY = "mpt.threads";

    /** {@link ForkJoinPool}'s own limit on parallelism (its {@code MAX_CAP}, 0x7fff). */
    private static final int FORK_JOIN_LIMIT = 0x7fff;

    /**
     * Most threads accepted: 4 per available processor, but at least 256 so that a setting that
     * works on one machine works on a smaller one, and never above ForkJoinPool's limit. More
     * threads than that only add switching; the bound catches typos such as 100000.
     */
    private static final int MAX_THREADS = Math.min(FORK_JOIN_LIMIT,
            Math.max(256, 4 * Runtime.getRuntime().availableProcessors()));

    /** The pool new kernel calls use; {@code null} while {@link #configError} stands. */
    private static volatile Pool current;

    /** Why {@code -Dmpt.threads} was rejected, or {@code null}; cleared by {@link #setThreads}. */
    private static volatile String configError;

    static {
        String value = System.getProperty(THREADS_PROPERTY);
        int n = parseThreads(value);
        if (n > 0) {
            current = new Pool(n);
        } else {
            configError = "system property " + THREADS_PROPERTY + " must be an integer in [1, " + MAX_THREADS
                    + "], got '" + value + "'; fix -D" + THREADS_PROPERTY + " or call Parallel.setThreads(n) before"
                    + " the first kernel";
        }
    }

    private Parallel() {
    }

    /** The thread count {@code value} asks for, the processor count when it is unset, or -1 when invalid. */
    private static int parseThreads(String value) {
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(value.trim());
            return n >= 1 && n <= MAX_THREADS ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * A fork-join pool and the number of its users: one for being {@link #current}, one for each
     * {@link #forEach} running on it. It shuts down when the count drops to zero, so resizing never
     * rejects work that already chose this pool.
     */
    private static final class Pool {
        final ForkJoinPool fj;
        private final AtomicInteger users = new AtomicInteger(1);

        Pool(int threads) {
            fj = new ForkJoinPool(threads, KernelThread::new, null, false);
        }

        /** Counts one more user; false when the pool already shut down (the caller re-reads {@link #current}). */
        boolean acquire() {
            for (int u = users.get(); u > 0; u = users.get()) {
                if (users.compareAndSet(u, u + 1)) {
                    return true;
                }
            }
            return false;
        }

        void release() {
            if (users.decrementAndGet() == 0) {
                fj.shutdown();
            }
        }
    }

    /** Numbers the kernel threads' names (the pool index is not yet assigned in the constructor). */
    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

    /** A worker of a kernel pool; nested kernel calls on it run inline. */
    private static final class KernelThread extends ForkJoinWorkerThread {
        KernelThread(ForkJoinPool pool) {
            super(null, pool, true);
            setName("mpt-kernel-" + THREAD_NUMBER.getAndIncrement());
            setDaemon(true);
        }
    }

    /** The current pool with one more user counted; the caller must {@link Pool#release()} it. */
    private static Pool acquire() {
        while (true) {
            Pool p = current;
            if (p == null) {
                throw new IllegalStateException(configError);
            }
            if (p.acquire()) {
                return p;
            }
        }
    }

    /** Returns the number of threads kernels use. */
    public static int threads() {
        Pool p = current;
        if (p == null) {
            throw new IllegalStateException(configError);
        }
        return p.fj.getParallelism();
    }

    /**
     * Returns the threads a kernel called from the current thread may use: {@link #threads()}, or 1
     * on a kernel thread, whose caller already runs in parallel (as {@link #forEach} runs inline there).
     */
    public static int callerThreads() {
        return Thread.currentThread() instanceof KernelThread ? 1 : threads();
    }

    /**
     * The most threads {@link #setThreads(int)} and {@code -Dmpt.threads} accept:
     * {@code min(32767, max(256, 4 * availableProcessors))}.
     */
    public static int maxThreads() {
        return MAX_THREADS;
    }

    /**
     * Sets the number of threads kernels use from now on. Safe at any time: kernels already running
     * finish on the previous pool, which shuts down when they have. Replaces a rejected
     * {@code -Dmpt.threads}.
     *
     * @param threads in {@code [1, maxThreads()]}
     * @throws IllegalArgumentException if {@code threads} is outside that range (nothing changes)
     */
    public static synchronized void setThreads(int threads) {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("Parallel.setThreads: threads must be in [1, " + MAX_THREADS
                    + "] (4 per available processor, at least 256), got " + threads);
        }
        Pool old = current;
        if (old == null || threads != old.fj.getParallelism()) {
            current = new Pool(threads);
            configError = null;
            if (old != null) {
                old.release();
            }
        }
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, tasks)}, on up to
     * {@link #threads()} threads, and returns when all have finished. Tasks must write disjoint
     * outputs. Runs inline when there is one thread or one task, or when called from a kernel
     * thread of any pool, current or previous (nested parallelism is flattened into the caller's
     * task).
     *
     * @throws IllegalStateException when {@code -Dmpt.threads} was rejected and
     *                               {@link #setThreads(int)} has not been called since
     */
    public static void forEach(int tasks, IntConsumer body) {
        if (tasks < 0) {
            throw new IllegalArgumentException("tasks must be >= 0, got " + tasks);
        }
        Pool p = acquire();
        try {
            if (tasks <= 1 || p.fj.getParallelism() == 1 || Thread.currentThread() instanceof KernelThread) {
                for (int i = 0; i < tasks; i++) {
                    body.accept(i);
                }
                return;
            }
            p.fj.invoke(new Range(body, 0, tasks));
        } finally {
            p.release();
        }
    }

    /**
     * Splits {@code [0, n)} into at most {@link #threads()} contiguous chunks of at least
     * {@code grain} elements and runs {@code body.run(from, to)} for each.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n < 0 || grain < 1) {
            throw new IllegalArgumentException("need n >= 0 and grain >= 1, got n=" + n + ", grain=" + grain);
        }
        int chunks = Math.max(1, Math.min(threads(), n / grain));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        forEach(chunks, c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }

    /** A body over a half-open index range. */
    @FunctionalInterface
    public interface RangeBody {
        /** Processes indices {@code [from, to)}. */
        void run(int from, int to);
    }

    private static final class Range extends RecursiveAction {
        private final IntConsumer body;
        private final int from;
        private final int to;

        Range(IntConsumer body, int from, int to) {
            this.body = body;
            this.from = from;
            this.to = to;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(body, from, mid), new Range(body, mid, to));
        }
    }
}
