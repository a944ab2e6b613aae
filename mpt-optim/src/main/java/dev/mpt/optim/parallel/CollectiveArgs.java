package dev.mpt.optim.parallel;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.number.DType;
import java.util.Objects;

/** The argument checks and the exact widening every {@link Collective} implementation shares. */
final class CollectiveArgs {

    private CollectiveArgs() {
    }

    /**
     * Checks a 16-bit reduce-scatter's dtype.
     *
     * @param who the class name for the message, e.g. {@code TcpCollective}
     */
    static void checkHalfWidth(String who, DType dtype) {
        Objects.requireNonNull(dtype, who + ".reduceScatter: dtype is null");
        if (!dtype.isHalfWidth()) {
            throw new IllegalArgumentException(who + ".reduceScatter: dtype must be FP16 or BF16 for short[] "
                    + "gradients, got " + dtype);
        }
    }

    /**
     * Checks that {@code shards} fits the world and the arrays of one call.
     *
     * @param who        the class name for the message
     * @param ranksNoun  what the ranks form, for the message ("group", "job")
     * @param fullLength the length of the whole vector passed or received
     * @param partLength the length of this rank's shard array
     */
    static void checkShards(String who, String ranksNoun, int world, int rank, String op, Shards shards,
                            int fullLength, int partLength) {
        Objects.requireNonNull(shards, who + "." + op + ": shards is null");
        if (shards.worldSize() != world) {
            throw new IllegalArgumentException(who + "." + op + ": shards for " + shards.worldSize()
                    + " ranks, but the " + ranksNoun + " has " + world);
        }
        if (fullLength != shards.total()) {
            throw new IllegalArgumentException(who + "." + op + ": the whole vector has " + fullLength
                    + " elements, the shards cover " + shards.total());
        }
        int ownLength = shards.length(rank);
        if (partLength < ownLength) {
            throw new IllegalArgumentException(who + "." + op + ": rank " + rank + "'s shard has " + ownLength
                    + " elements, its array only " + partLength);
        }
    }

    /** Widens {@code src[off, off + len)} (FP16 or BF16 bits) exactly into {@code dst[0, len)}. */
    static void widen(short[] src, DType dtype, int off, float[] dst, int len) {
        if (dtype == DType.FP16) {
            Convert.halfToFloat(src, off, dst, 0, len);
        } else {
            Convert.bfloat16ToFloat(src, off, dst, 0, len);
        }
    }
}
