package dev.mpt.core.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The thread pool that mpt's kernels run on.
 *
 * <p>Kernels split their output into independent tasks and call {@link #forEach(int, IntConsumer)};
 * each output element is written by exactly one task with a fixed summation order, so results are
 * bit-identical for every thread count.
 *
 * <p>The number of threads is read once from the system property {@code mpt.threads} (default:
 * {@link Runtime#availableProcessors()}) and may be changed with {@link #setThreads(int)}.
 */
public final class Parallel {

    /** System property naming the number of kernel threads. */
    public static final String THREADS_PROPERTY = "mpt.threads";

    private static volatile ForkJoinPool pool = newPool(initialThreads());

    private Parallel() {
    }

    private static int initialThreads() {
        String value = System.getProperty(THREADS_PROPERTY);
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(
                "system property " + THREADS_PROPERTY + " must be a positive integer, got '" + value + "'");
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(threads, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("mpt-kernel-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    /** Returns the number of threads kernels use. */
    public static int threads() {
        return pool.getParallelism();
    }

    /**
     * Returns the threads a kernel called from the current thread may use: {@link #threads()}, or 1
     * on a kernel thread, whose caller already runs in parallel (what {@link #forEach} does too).
     */
    public static int callerThreads() {
        ForkJoinPool p = pool;
        return ForkJoinTask.getPool() == p ? 1 : p.getParallelism();
    }

    /**
     * Sets the number of threads kernels use from now on.
     *
     * @param threads at least 1
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads != pool.getParallelism()) {
            ForkJoinPool old = pool;
            pool = newPool(threads);
            old.shutdown();
        }
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, tasks)}, on up to
     * {@link #threads()} threads, and returns when all have finished. Tasks must write disjoint
     * outputs. Runs inline when there is one thread or one task, or when called from a kernel
     * thread (nested parallelism is flattened into the caller's task).
     */
    public static void forEach(int tasks, IntConsumer body) {
        if (tasks < 0) {
            throw new IllegalArgumentException("tasks must be >= 0, got " + tasks);
        }
        ForkJoinPool p = pool;
        if (tasks <= 1 || p.getParallelism() == 1 || ForkJoinTask.getPool() == p) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        p.invoke(new Range(body, 0, tasks));
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
