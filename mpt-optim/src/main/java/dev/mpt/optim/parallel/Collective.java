package dev.mpt.optim.parallel;

import dev.mpt.core.number.DType;

/**
 * The communication a data-parallel step needs among {@code worldSize()} ranks. Every rank calls
 * the same operations in the same order with arrays of the same lengths; each call returns when
 * this rank's part is done, or throws {@link CollectiveException} (within the implementation's
 * deadline) when a peer fails.
 *
 * <p>Deterministic by construction: the owner of each shard sums the ranks' contributions itself,
 * in rank order, in FP32 ({@code s = g_0; s += g_1; ...; s += g_{N-1}}, each addition rounded to
 * FP32), so the result does not depend on timing or on the transport. (A ring all-reduce adds in a
 * different order per chunk and could not promise that.)
 *
 * <p>Implementations: {@link InProcessCollective} (ranks are threads of one JVM) and a TCP one for
 * processes and machines.
 */
public interface Collective extends AutoCloseable {

    /** This rank, in {@code [0, worldSize())}. */
    int rank();

    /** The number of ranks. */
    int worldSize();

    /**
     * Reduce-scatter of 16-bit gradients: every rank passes its whole vector {@code grads} (FP16 or
     * BF16 bit patterns as {@code dtype} says, {@code shards.total()} long); this rank receives in
     * {@code out[0, shards.length(rank()))} the FP32 sums over ranks, in rank order, of the
     * elements it owns.
     *
     * @throws IllegalArgumentException if {@code dtype} is not 16-bit, or the lengths or the world
     *                                  size of {@code shards} do not match
     */
    void reduceScatter(short[] grads, DType dtype, Shards shards, float[] out);

    /** Reduce-scatter of FP32 gradients: as {@link #reduceScatter(short[], DType, Shards, float[])}. */
    void reduceScatter(float[] grads, Shards shards, float[] out);

    /**
     * All-gather of 16-bit values: every rank passes its shard ({@code shard[0, shards.length(rank()))});
     * every rank receives the whole vector in {@code full} (its own shard copied too).
     */
    void allGather(short[] shard, Shards shards, short[] full);

    /** All-gather of FP32 values: as {@link #allGather(short[], Shards, short[])}. */
    void allGather(float[] shard, Shards shards, float[] full);

    /**
     * Every rank passes a flag; every rank receives true when any rank passed true (the "did any
     * shard overflow" decision, so all ranks skip or step together).
     */
    boolean anyTrue(boolean flag);

    /**
     * Every rank passes a few doubles (any number, also none); every rank receives all of them,
     * concatenated in rank order (partial sums to be added in one fixed order).
     */
    double[] allGather(double[] values);

    /** Bytes this rank has sent to other ranks so far (0 in process, where nothing is copied). */
    long bytesSent();

    /** Releases the connections; later calls throw {@link IllegalStateException}. */
    @Override
    void close();
}
