package dev.mpt.optim.parallel;

import java.util.Arrays;

/**
 * A partition of a flat vector of {@code total()} elements (every parameter of a model, one after
 * another) into one contiguous shard per rank: rank {@code r} owns {@code [start(r), end(r))}. In a
 * data-parallel step the owner of a shard sums the ranks' gradients for it, keeps its FP32 masters
 * and optimizer state, and sends its updated weights to the others.
 *
 * @param bounds {@code worldSize() + 1} non-decreasing offsets, from 0 to the total length
 */
public record Shards(int[] bounds) {

    /**
     * @throws NullPointerException     if {@code bounds} is null
     * @throws IllegalArgumentException if there are fewer than two bounds, the first is not 0, or
     *                                  they decrease
     */
    public Shards {
        if (bounds.length < 2) {
            throw new IllegalArgumentException("Shards: need worldSize + 1 >= 2 bounds, got " + bounds.length);
        }
        if (bounds[0] != 0) {
            throw new IllegalArgumentException("Shards: the first bound must be 0, got " + bounds[0]);
        }
        for (int r = 1; r < bounds.length; r++) {
            if (bounds[r] < bounds[r - 1]) {
                throw new IllegalArgumentException("Shards: bounds must not decrease, got " + Arrays.toString(bounds));
            }
        }
        bounds = bounds.clone();
    }

    /**
     * Shards of {@code total} elements split as evenly as possible: the first {@code total % world}
     * ranks own one element more.
     *
     * @throws IllegalArgumentException if {@code total < 0} or {@code world < 1}
     */
    public static Shards even(int total, int world) {
        if (total < 0 || world < 1) {
            throw new IllegalArgumentException("Shards.even: need total >= 0 and world >= 1, got total " + total
                    + ", world " + world);
        }
        int[] b = new int[world + 1];
        int base = total / world;
        int extra = total % world;
        for (int r = 0; r < world; r++) {
            b[r + 1] = b[r] + base + (r < extra ? 1 : 0);
        }
        return new Shards(b);
    }

    /** The number of ranks. */
    public int worldSize() {
        return bounds.length - 1;
    }

    /** The length of the whole vector. */
    public int total() {
        return bounds[bounds.length - 1];
    }

    /** The first element rank {@code r} owns. */
    public int start(int r) {
        return bounds[check(r)];
    }

    /** One past the last element rank {@code r} owns. */
    public int end(int r) {
        return bounds[check(r) + 1];
    }

    /** The number of elements rank {@code r} owns (0 is allowed). */
    public int length(int r) {
        return end(r) - start(r);
    }

    /** A copy of the bounds. */
    @Override
    public int[] bounds() {
        return bounds.clone();
    }

    private int check(int r) {
        if (r < 0 || r >= worldSize()) {
            throw new IndexOutOfBoundsException("Shards: rank " + r + " outside [0, " + worldSize() + ")");
        }
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shards s && Arrays.equals(bounds, s.bounds);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bounds);
    }

    @Override
    public String toString() {
        return "Shards" + Arrays.toString(bounds);
    }
}
