package dev.mpt.core.random;

import java.util.random.RandomGenerator;

/**
 * A random generator whose whole state is one {@code long}, so a training checkpoint can save it
 * and a resumed run draws exactly the numbers the uninterrupted run would have drawn (the JDK's
 * {@code SplittableRandom} uses the same algorithm but hides its state).
 *
 * <p>Algorithm: SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): the state advances by the odd constant {@code 0x9e3779b97f4a7c15}
 * and each output is the state passed through a 64-bit mixing function (Stafford's variant 13).
 * Period 2^64; statistical quality is ample for shuffling and dropout masks, not for cryptography.
 * Every other method of {@link RandomGenerator} derives from {@link #nextLong()}, so it is
 * reproducible too. Not thread-safe.
 */
public final class SplitMix64 implements RandomGenerator {

    private static final long GAMMA = 0x9e3779b97f4a7c15L;

    private long state;

    private SplitMix64(long state) {
        this.state = state;
    }

    /** A generator seeded with {@code seed}. */
    public static SplitMix64 seeded(long seed) {
        return new SplitMix64(seed);
    }

    /** A generator that continues from a state returned by {@link #state()}. */
    public static SplitMix64 ofState(long state) {
        return new SplitMix64(state);
    }

    /** The current state: {@code ofState(state())} draws the same sequence from here on. */
    public long state() {
        return state;
    }

    /** Continues from a saved state (for restoring a checkpoint into a generator already shared). */
    public void setState(long state) {
        this.state = state;
    }

    @Override
    public long nextLong() {
        long z = state += GAMMA;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "SplitMix64[state=" + state + "]";
    }
}
