package dev.mpt.optim.parallel;

import dev.mpt.nn.Module;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The in-process launcher: runs one function per rank on {@code N} threads of this JVM, each with
 * its own model replica (built by a factory on that rank's thread) and its
 * {@link InProcessCollective}, and returns their results in rank order:
 *
 * <pre>{@code
 * List<Double> losses = DataParallel.workers(2).run(() -> model(seed), w -> {
 *     var opt = DataParallelOptimizer.builder(w.model(), w.collective(), new Adam(1e-3)).build();
 *     ...                                                   // train on micro-batch w.rank() of each step
 *     return lastLoss;
 * });
 * }</pre>
 *
 * <p>Failures: when a rank throws, every collective of the group is closed (ranks waiting in a
 * collective call fail at once) and the workers are interrupted; {@link #run} then throws a
 * {@link CollectiveException} naming the first rank that failed, with its exception as the cause
 * (the others' are added as suppressed). Nothing hangs: each collective call waits at most
 * {@link #collectiveTimeout(Duration)}, and {@code run} returns at the latest {@link #GRACE} after
 * the first failure or after {@link #deadline(Duration)} (a worker that ignores interruption keeps
 * running as a daemon thread).
 *
 * <p>Threads: the ranks share mpt's kernel pool ({@link dev.mpt.core.kernel.Parallel}); each rank's
 * kernels split their work over it as usual and results do not depend on the thread count. With
 * {@code N} ranks on {@code C} cores, each rank's kernels get about {@code C / N} cores' worth of
 * time.
 */
public final class DataParallel {

    /** The whole run's deadline when none is given. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofHours(24);

    /** How long the workers get to return after a failure or the deadline before {@link #run} throws. */
    public static final Duration GRACE = Duration.ofSeconds(5);

    private final int workers;
    private Duration collectiveTimeout = InProcessCollective.DEFAULT_TIMEOUT;
    private Duration deadline = DEFAULT_DEADLINE;

    private DataParallel(int workers) {
        this.workers = workers;
    }

    /**
     * A launcher of {@code n} ranks.
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static DataParallel workers(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("DataParallel.workers: need at least 1 worker, got " + n);
        }
        return new DataParallel(n);
    }

    /** How long each collective call waits for the other ranks (default 30 s). */
    public DataParallel collectiveTimeout(Duration timeout) {
        this.collectiveTimeout = positive("collectiveTimeout", timeout);
        return this;
    }

    /** How long {@link #run} waits for all ranks at most (default 24 h). */
    public DataParallel deadline(Duration total) {
        this.deadline = positive("deadline", total);
        return this;
    }

    /** The number of ranks. */
    public int workers() {
        return workers;
    }

    /** One rank's view: its rank, the world size, its model replica and its collective. */
    public record Worker(int rank, int worldSize, Module model, Collective collective) {
    }

    /** The function each rank runs. */
    @FunctionalInterface
    public interface Body<R> {
        /** Trains (or evaluates) on this rank; the result is returned to the caller of {@link DataParallel#run}. */
        R run(Worker worker) throws Exception;
    }

    /**
     * Runs {@code body} on every rank, each on its own thread with a replica from {@code factory}
     * (called on that rank's thread), and returns the results in rank order.
     *
     * @throws NullPointerException if an argument is null
     * @throws CollectiveException  if a rank failed (the cause is its exception) or the deadline passed
     */
    public <R> List<R> run(Supplier<? extends Module> factory, Body<R> body) {
        Objects.requireNonNull(factory, "DataParallel.run: factory is null");
        Objects.requireNonNull(body, "DataParallel.run: body is null");
        List<Collective> group = InProcessCollective.group(workers, collectiveTimeout);
        List<R> results = new ArrayList<>(Collections.nCopies(workers, null));
        List<Failure> failures = new ArrayList<>();
        CountDownLatch finished = new CountDownLatch(workers);
        CountDownLatch wake = new CountDownLatch(1);      // the first failure, or the last worker done
        List<Thread> threads = new ArrayList<>(workers);
        for (int r = 0; r < workers; r++) {
            final int rank = r;
            Thread t = new Thread(() -> {
                Collective c = group.get(rank);
                try {
                    Module model = Objects.requireNonNull(factory.get(), "DataParallel.run: factory returned null");
                    R out = body.run(new Worker(rank, workers, model, c));
                    synchronized (results) {
                        results.set(rank, out);
                    }
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(new Failure(rank, e));     // before close: the cause is recorded first
                    }
                    c.close();
                    wake.countDown();
                } finally {
                    finished.countDown();
                    if (finished.getCount() == 0) {
                        wake.countDown();
                    }
                }
            }, "mpt-data-parallel-" + r + "-of-" + workers);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        try {
            if (!wake.await(deadline.toNanos(), TimeUnit.NANOSECONDS)) {
                stop(threads, group, finished);
                throw new CollectiveException(-1, "DataParallel.run: the " + workers + " workers did not finish "
                        + "within the deadline " + deadline + "; they were interrupted", null);
            }
            if (finished.getCount() > 0) {
                stop(threads, group, finished);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(threads, group, finished);
            throw new CollectiveException(-1, "DataParallel.run: interrupted while waiting for the workers", e);
        }
        synchronized (failures) {
            if (!failures.isEmpty()) {
                Failure f = failures.get(0);
                CollectiveException e = new CollectiveException(f.rank, "DataParallel.run: rank " + f.rank + " of "
                        + workers + " failed: " + f.error, f.error);
                failures.stream().skip(1).forEach(x -> e.addSuppressed(x.error));
                throw e;
            }
        }
        return results;
    }

    /**
     * After a failure or at the deadline: closes every rank's collective (waiting ranks fail at
     * once), interrupts the workers, and gives them {@link #GRACE} to return.
     */
    private static void stop(List<Thread> threads, List<Collective> group, CountDownLatch finished) {
        group.forEach(Collective::close);
        threads.forEach(Thread::interrupt);
        try {
            finished.await(GRACE.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Failure(int rank, Throwable error) {
    }

    private static Duration positive(String what, Duration d) {
        Objects.requireNonNull(d, () -> "DataParallel." + what + ": duration is null");
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("DataParallel." + what + ": must be positive, got " + d);
        }
        return d;
    }

    @Override
    public String toString() {
        return "DataParallel[workers=" + workers + ", collectiveTimeout=" + collectiveTimeout + ", deadline="
                + deadline + "]";
    }
}
