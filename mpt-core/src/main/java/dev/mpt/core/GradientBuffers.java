package dev.mpt.core;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * FP32 arrays of gradients the backward walk has finished with, kept per thread so that the next
 * rules (of this walk or of the next training step) take them instead of allocating: a training
 * step's activation gradients, megabytes each, then come from the same few arrays every step.
 *
 * <p>The rule that makes this safe: an array enters only through {@link #recycle}, which the walk
 * ({@link Autograd#backward}) calls for an incoming gradient it owned (storage private to the walk:
 * never a forward tensor, a seed, a leaf's {@code grad} or anything a rule returned for one of its
 * inputs) once that gradient's rule has run. No user-reachable tensor ever holds such an array. An
 * array leaves through {@link #take} into a rule's new gradient, from where it may become a
 * parameter's {@code grad} (a user's tensor from then on: it never comes back, since the walk
 * recycles only gradients it owned and drops). Forward outputs and saved activations are never
 * pooled: a user may hold them.
 *
 * <p>Each thread keeps at most {@link #MAX_ARRAYS} arrays and {@link #MAX_FLOATS} floats, the
 * most recently recycled first; a request takes an array of exactly its length or allocates.
 */
final class GradientBuffers {

    /** Arrays kept per thread: the activation gradients of a few conv/pool/norm layers. */
    static final int MAX_ARRAYS = 16;
    /** Floats kept per thread: 256 MiB at most, beyond which arrays are left to the collector. */
    static final long MAX_FLOATS = 1L << 26;
    /** Smallest array worth keeping: 64 KiB (smaller ones are cheap for the allocator). */
    static final int MIN_FLOATS = 1 << 14;

    private static final ThreadLocal<ArrayDeque<float[]>> FREE = ThreadLocal.withInitial(ArrayDeque::new);

    private GradientBuffers() {
    }

    /**
     * A float array of exactly {@code n} elements for a new gradient: a recycled one (arbitrary
     * contents) or a new one. The caller must write every element it later reads.
     */
    static float[] take(int n) {
        float[] a = kept(n);
        return a != null ? a : new float[n];
    }

    /** A kept array of exactly {@code n} floats, removed from this thread's list; null if none. */
    private static float[] kept(int n) {
        if (n < MIN_FLOATS) {
            return null;
        }
        Iterator<float[]> it = FREE.get().iterator();
        while (it.hasNext()) {
            float[] a = it.next();
            if (a.length == n) {
                it.remove();
                return a;
            }
        }
        return null;
    }

    /**
     * Hands back an array no tensor a user can reach holds (see the class doc); kept if it is large
     * enough and fits the limits, the oldest dropped first.
     */
    static void recycle(float[] a) {
        if (a.length < MIN_FLOATS || a.length > MAX_FLOATS) {
            return;
        }
        ArrayDeque<float[]> free = FREE.get();
        for (float[] f : free) {
            if (f == a) {
                throw new IllegalStateException("GradientBuffers: array recycled twice");
            }
        }
        free.addFirst(a);
        long total = 0;
        for (float[] f : free) {
            total += f.length;
        }
        while (free.size() > MAX_ARRAYS || total > MAX_FLOATS) {
            total -= free.removeLast().length;
        }
    }

    /** Arrays kept by this thread (tests). */
    static int kept() {
        return FREE.get().size();
    }
}
