package dev.mpt.optim.parallel;

import dev.mpt.core.number.DType;
import java.util.Objects;

/**
 * A {@link Collective} that passes every call to another and counts, in {@link #bytesSent()}, the
 * payload bytes this rank would put on a wire if each value went once to each rank that needs it
 * (no headers): to measure an in-process run, whose {@link InProcessCollective} sends nothing.
 * <ul>
 *   <li>reduce-scatter: every element this rank does not own, to its owner:
 *       {@code (total - own) * b} bytes, {@code b} = 2 for 16-bit and 4 for FP32 values;</li>
 *   <li>all-gather of a shard: the own shard to each other rank: {@code own * b * (N - 1)};</li>
 *   <li>{@code anyTrue}: one byte to each other rank; all-gather of doubles: {@code 8 * length * (N - 1)}.</li>
 * </ul>
 * So a data-parallel step with 16-bit gradients costs about {@code 2 * 2 * (N - 1) / N} bytes per
 * parameter and rank (reduce-scatter plus all-gather), plus a few doubles per block.
 */
public final class MeteredCollective implements Collective {

    private final Collective inner;
    private long bytes;

    /** Counts the calls that go to {@code inner}. */
    public MeteredCollective(Collective inner) {
        this.inner = Objects.requireNonNull(inner, "MeteredCollective: inner collective is null");
    }

    @Override
    public int rank() {
        return inner.rank();
    }

    @Override
    public int worldSize() {
        return inner.worldSize();
    }

    @Override
    public void reduceScatter(short[] grads, DType dtype, Shards shards, float[] out) {
        inner.reduceScatter(grads, dtype, shards, out);
        bytes += 2L * (shards.total() - shards.length(rank()));
    }

    @Override
    public void reduceScatter(float[] grads, Shards shards, float[] out) {
        inner.reduceScatter(grads, shards, out);
        bytes += 4L * (shards.total() - shards.length(rank()));
    }

    @Override
    public void allGather(short[] shard, Shards shards, short[] full) {
        inner.allGather(shard, shards, full);
        bytes += 2L * shards.length(rank()) * (worldSize() - 1);
    }

    @Override
    public void allGather(float[] shard, Shards shards, float[] full) {
        inner.allGather(shard, shards, full);
        bytes += 4L * shards.length(rank()) * (worldSize() - 1);
    }

    @Override
    public boolean anyTrue(boolean flag) {
        boolean any = inner.anyTrue(flag);
        bytes += worldSize() - 1;
        return any;
    }

    @Override
    public double[] allGather(double[] values) {
        double[] all = inner.allGather(values);
        bytes += 8L * values.length * (worldSize() - 1);
        return all;
    }

    /** The payload bytes counted so far (see the class comment); not the inner collective's own count. */
    @Override
    public long bytesSent() {
        return bytes;
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public String toString() {
        return "MeteredCollective[" + inner + ", bytesSent=" + bytes + "]";
    }
}
