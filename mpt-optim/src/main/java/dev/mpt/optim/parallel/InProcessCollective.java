package dev.mpt.optim.parallel;

import dev.mpt.core.number.DType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link Collective} whose ranks are threads of one JVM: each rank publishes a reference to its
 * array, and the owner of each shard reads the others' arrays directly (nothing is copied but the
 * sums). Made as a group: {@code InProcessCollective.group(4)} returns one collective per rank, to
 * be used by four threads.
 *
 * <p>Every call waits for all ranks at most the group's deadline; a rank that does not arrive in
 * time, or that {@link #close() closes} (as a worker should when it throws), makes every rank
 * waiting now or calling later throw {@link CollectiveException} at once, naming the rank that did
 * not arrive or that left.
 */
public final class InProcessCollective implements Collective {

    /** The deadline for every call when none is given. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final Group group;
    private final int rank;
    private float[] scratch = new float[0];
    private boolean closed;

    private InProcessCollective(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /** One collective per rank of a new group of {@code world} threads, with the default deadline. */
    public static List<Collective> group(int world) {
        return group(world, DEFAULT_TIMEOUT);
    }

    /**
     * One collective per rank of a new group of {@code world} threads; each call waits for the
     * other ranks at most {@code timeout}.
     *
     * @throws IllegalArgumentException if {@code world < 1} or {@code timeout} is not positive
     */
    public static List<Collective> group(int world, Duration timeout) {
        Objects.requireNonNull(timeout, "InProcessCollective.group: timeout is null");
        if (world < 1) {
            throw new IllegalArgumentException("InProcessCollective.group: world size must be >= 1, got " + world);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("InProcessCollective.group: timeout must be positive, got " + timeout);
        }
        Group g = new Group(world, timeout);
        List<Collective> ranks = new ArrayList<>(world);
        for (int r = 0; r < world; r++) {
            ranks.add(new InProcessCollective(g, r));
        }
        return List.copyOf(ranks);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return group.world;
    }

    private void checkShards(String op, Shards shards, int fullLength, int partLength) {
        CollectiveArgs.checkShards("InProcessCollective", "group", group.world, rank, op, shards, fullLength, partLength);
    }

    @Override
    public void reduceScatter(short[] grads, DType dtype, Shards shards, float[] out) {
        CollectiveArgs.checkHalfWidth("InProcessCollective", dtype);
        checkShards("reduceScatter", shards, grads.length, out.length);
        exchange(grads);
        int lo = shards.start(rank);
        int len = shards.length(rank);
        if (scratch.length < len) {
            scratch = new float[len];
        }
        CollectiveArgs.widen((short[]) group.slots[0], dtype, lo, out, len);
        for (int r = 1; r < group.world; r++) {
            CollectiveArgs.widen((short[]) group.slots[r], dtype, lo, scratch, len);
            for (int i = 0; i < len; i++) {
                out[i] += scratch[i];
            }
        }
        await("reduceScatter");
    }

    @Override
    public void reduceScatter(float[] grads, Shards shards, float[] out) {
        checkShards("reduceScatter", shards, grads.length, out.length);
        exchange(grads);
        int lo = shards.start(rank);
        int len = shards.length(rank);
        System.arraycopy((float[]) group.slots[0], lo, out, 0, len);
        for (int r = 1; r < group.world; r++) {
            float[] g = (float[]) group.slots[r];
            for (int i = 0; i < len; i++) {
                out[i] += g[lo + i];
            }
        }
        await("reduceScatter");
    }

    @Override
    public void allGather(short[] shard, Shards shards, short[] full) {
        checkShards("allGather", shards, full.length, shard.length);
        exchange(shard);
        for (int r = 0; r < group.world; r++) {
            System.arraycopy((short[]) group.slots[r], 0, full, shards.start(r), shards.length(r));
        }
        await("allGather");
    }

    @Override
    public void allGather(float[] shard, Shards shards, float[] full) {
        checkShards("allGather", shards, full.length, shard.length);
        exchange(shard);
        for (int r = 0; r < group.world; r++) {
            System.arraycopy((float[]) group.slots[r], 0, full, shards.start(r), shards.length(r));
        }
        await("allGather");
    }

    @Override
    public boolean anyTrue(boolean flag) {
        exchange(flag);
        boolean any = false;
        for (int r = 0; r < group.world; r++) {
            any |= (Boolean) group.slots[r];
        }
        await("anyTrue");
        return any;
    }

    @Override
    public double[] allGather(double[] values) {
        Objects.requireNonNull(values, "InProcessCollective.allGather: values is null");
        exchange(values);
        int n = 0;
        for (int r = 0; r < group.world; r++) {
            n += ((double[]) group.slots[r]).length;
        }
        double[] all = new double[n];
        int at = 0;
        for (int r = 0; r < group.world; r++) {
            double[] v = (double[]) group.slots[r];
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        await("allGather");
        return all;
    }

    @Override
    public long bytesSent() {
        return 0;
    }

    /** Leaves the group: ranks waiting now or later fail instead of waiting for this one. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            group.fail(rank, "InProcessCollective: rank " + rank + " left the group (it closed its collective, "
                    + "finished early or failed)", null);
        }
    }

    @Override
    public String toString() {
        return "InProcessCollective[rank " + rank + " of " + group.world + "]";
    }


    /** Publishes this rank's contribution and waits until every rank has published its own. */
    private void exchange(Object mine) {
        if (closed) {
            throw new IllegalStateException("InProcessCollective: rank " + rank + " is closed");
        }
        group.slots[rank] = mine;
        await("exchange");
    }

    private void await(String op) {
        group.await(rank, "InProcessCollective." + op);
    }


    /**
     * A barrier for the group's ranks that remembers who has arrived and, once any rank fails,
     * fails every later call at once (a {@code CyclicBarrier} reset would let later arrivals wait
     * out the whole deadline).
     */
    private static final class Group {
        final int world;
        final Duration timeout;
        final Object[] slots;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition tripped = lock.newCondition();
        private final boolean[] arrived;
        private int count;
        private long generation;
        private CollectiveException failure;

        Group(int world, Duration timeout) {
            this.world = world;
            this.timeout = timeout;
            this.slots = new Object[world];
            this.arrived = new boolean[world];
        }

        /** Waits until every rank has arrived, or throws when a rank fails or the deadline passes. */
        void await(int rank, String op) {
            lock.lock();
            try {
                if (failure != null) {
                    throw failed(rank, op);
                }
                long gen = generation;
                arrived[rank] = true;
                if (++count == world) {
                    Arrays.fill(arrived, false);
                    count = 0;
                    generation++;
                    tripped.signalAll();
                    return;
                }
                long nanos = timeout.toNanos();
                while (generation == gen && failure == null) {
                    if (nanos <= 0) {
                        List<Integer> missing = new ArrayList<>();
                        for (int r = 0; r < world; r++) {
                            if (!arrived[r]) {
                                missing.add(r);
                            }
                        }
                        CollectiveException mine = new CollectiveException(missing.size() == 1 ? missing.get(0) : -1,
                                op + ": rank " + rank + " waited " + timeout + " for rank(s) " + missing
                                        + "; they died, hang or skipped a call", null);
                        if (failure == null) {
                            failure = mine;
                            tripped.signalAll();
                            throw mine;
                        }
                        break;
                    }
                    try {
                        nanos = tripped.awaitNanos(nanos);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        fail(rank, op + ": rank " + rank + " was interrupted", e);
                    }
                }
                if (generation == gen) {
                    throw failed(rank, op);
                }
            } finally {
                lock.unlock();
            }
        }

        /** Records the group's first failure and wakes every waiting rank. */
        void fail(int culprit, String message, Throwable cause) {
            lock.lock();
            try {
                if (failure == null) {
                    failure = new CollectiveException(culprit, message, cause);
                }
                tripped.signalAll();
            } finally {
                lock.unlock();
            }
        }

        private CollectiveException failed(int rank, String op) {
            return new CollectiveException(failure.rank(), op + ": rank " + rank + " gave up: "
                    + failure.getMessage(), failure);
        }
    }
}
