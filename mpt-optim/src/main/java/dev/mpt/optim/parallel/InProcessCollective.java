package dev.mpt.optim.parallel;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.number.DType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link Collective} whose ranks are threads of one JVM: each rank publishes a reference to its
 * array, and the owner of each shard reads the others' arrays directly (nothing is copied but the
 * sums). Made as a group: {@code InProcessCollective.group(4)} returns one collective per rank, to
 * be used by four threads.
 *
 * <p>Every call waits for all ranks at most the group's deadline; a rank that does not arrive in
 * time, or that {@link #close() closes} or fails while others wait, makes every waiting rank throw
 * {@link CollectiveException}.
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

    @Override
    public void reduceScatter(short[] grads, DType dtype, Shards shards, float[] out) {
        Objects.requireNonNull(dtype, "InProcessCollective.reduceScatter: dtype is null");
        if (!dtype.isHalfWidth()) {
            throw new IllegalArgumentException("InProcessCollective.reduceScatter: dtype must be FP16 or BF16 for "
                    + "short[] gradients, got " + dtype);
        }
        checkShards("reduceScatter", shards, grads.length, out.length, shards.length(rank));
        exchange(grads);
        int lo = shards.start(rank);
        int len = shards.length(rank);
        if (scratch.length < len) {
            scratch = new float[len];
        }
        widen((short[]) group.slots[0], dtype, lo, out, len);
        for (int r = 1; r < group.world; r++) {
            widen((short[]) group.slots[r], dtype, lo, scratch, len);
            for (int i = 0; i < len; i++) {
                out[i] += scratch[i];
            }
        }
        await("reduceScatter");
    }

    @Override
    public void reduceScatter(float[] grads, Shards shards, float[] out) {
        checkShards("reduceScatter", shards, grads.length, out.length, shards.length(rank));
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
        checkShards("allGather", shards, full.length, shard.length, shards.length(rank));
        exchange(shard);
        for (int r = 0; r < group.world; r++) {
            System.arraycopy((short[]) group.slots[r], 0, full, shards.start(r), shards.length(r));
        }
        await("allGather");
    }

    @Override
    public void allGather(float[] shard, Shards shards, float[] full) {
        checkShards("allGather", shards, full.length, shard.length, shards.length(rank));
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
            group.barrier.reset();
        }
    }

    @Override
    public String toString() {
        return "InProcessCollective[rank " + rank + " of " + group.world + "]";
    }

    private void checkShards(String op, Shards shards, int fullLength, int partLength, int ownLength) {
        Objects.requireNonNull(shards, "InProcessCollective." + op + ": shards is null");
        if (shards.worldSize() != group.world) {
            throw new IllegalArgumentException("InProcessCollective." + op + ": shards for " + shards.worldSize()
                    + " ranks, but the group has " + group.world);
        }
        if (fullLength != shards.total()) {
            throw new IllegalArgumentException("InProcessCollective." + op + ": the whole vector has " + fullLength
                    + " elements, the shards cover " + shards.total());
        }
        if (partLength < ownLength) {
            throw new IllegalArgumentException("InProcessCollective." + op + ": rank " + rank + "'s shard has "
                    + ownLength + " elements, its array only " + partLength);
        }
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
        try {
            group.barrier.await(group.timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new CollectiveException(-1, "InProcessCollective." + op + ": rank " + rank + " waited "
                    + group.timeout + " for the other ranks; a rank died, hangs or skipped a call", e);
        } catch (BrokenBarrierException e) {
            throw new CollectiveException(-1, "InProcessCollective." + op + ": rank " + rank + " gave up: another "
                    + "rank failed, timed out or closed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            group.barrier.reset();
            throw new CollectiveException(rank, "InProcessCollective." + op + ": rank " + rank + " was interrupted", e);
        }
    }

    private static void widen(short[] src, DType dtype, int off, float[] dst, int len) {
        if (dtype == DType.FP16) {
            Convert.halfToFloat(src, off, dst, 0, len);
        } else {
            Convert.bfloat16ToFloat(src, off, dst, 0, len);
        }
    }

    private static final class Group {
        final int world;
        final Duration timeout;
        final Object[] slots;
        final CyclicBarrier barrier;

        Group(int world, Duration timeout) {
            this.world = world;
            this.timeout = timeout;
            this.slots = new Object[world];
            this.barrier = new CyclicBarrier(world);
        }
    }
}
