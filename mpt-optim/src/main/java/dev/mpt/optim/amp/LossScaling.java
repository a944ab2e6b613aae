package dev.mpt.optim.amp;

import java.util.Objects;

/**
 * The current loss scale of one or more {@link AmpOptimizer}s: a mutable holder of an immutable
 * {@link LossScaler} value, plus whether any gradients overflowed since the last
 * {@link #update()}.
 *
 * <p>An optimizer built with {@link AmpOptimizer.Builder#lossScaler(LossScaler)} owns its
 * scaling and updates it at the end of each of its steps. One made with {@link #shared(LossScaler)}
 * and passed to several optimizers ({@link AmpOptimizer.Builder#lossScaling(LossScaling)}) is
 * updated by the caller, once per iteration, after every optimizer sharing it has stepped: an
 * overflow in any of them backs the scale off (or holds its growth) for all of them. A GAN with
 * one shared scale:
 *
 * <pre>{@code
 * LossScaling scaling = LossScaling.shared(LossScaler.dynamic());
 * var dOpt = AmpOptimizer.builder(disc, new Adam(2e-4)).precision(MIXED_FP16).lossScaling(scaling).build();
 * var gOpt = AmpOptimizer.builder(gen, new Adam(2e-4)).precision(MIXED_FP16).lossScaling(scaling).build();
 * for (...) {
 *     dOpt.zeroGrad();
 *     dOpt.scale(dLoss(real, gen.forward(z).detach())).backward();
 *     dOpt.step();                      // skipped if D's gradients overflowed
 *     gOpt.zeroGrad(); dOpt.zeroGrad();
 *     gOpt.scale(gLoss(disc.forward(gen.forward(z)))).backward();
 *     gOpt.step();                      // skipped if G's (or D's earlier) gradients overflowed
 *     scaling.update();                 // once per iteration: back off if either overflowed
 * }
 * }</pre>
 * A step is skipped when its own gradients overflow or when an optimizer sharing the scaling
 * already found an overflow since the last update. To make both skip whenever either overflows,
 * run both backward passes first, then {@link AmpOptimizer#unscale()} on both, then both
 * {@code step()}s. With a scaler each instead (two {@link AmpOptimizer.Builder#lossScaler}
 * calls), the two scales evolve independently.
 */
public final class LossScaling {

    private final boolean shared;
    private LossScaler scaler;
    private boolean overflow;
    private long generation;

    private LossScaling(LossScaler scaler, boolean shared) {
        this.scaler = Objects.requireNonNull(scaler, "LossScaling: scaler is null");
        this.shared = shared;
    }

    /** A scaling to share between optimizers; call {@link #update()} once per iteration. */
    public static LossScaling shared(LossScaler scaler) {
        return new LossScaling(scaler, true);
    }

    /** A scaling owned by one optimizer, updated by its steps. */
    static LossScaling owned(LossScaler scaler) {
        return new LossScaling(scaler, false);
    }

    /** Whether this scaling is shared (updated by the caller) rather than owned by one optimizer. */
    public boolean isShared() {
        return shared;
    }

    /** The current scaler value (scale, bounds, counters). */
    public LossScaler scaler() {
        return scaler;
    }

    /** The current loss scale. */
    public double scale() {
        return scaler.scale();
    }

    /** Whether an optimizer found inf/NaN gradients since the last update. */
    public boolean overflowSinceUpdate() {
        return overflow;
    }

    /**
     * Ends an iteration of a shared scaling: adjusts the scale with "all gradients finite" unless an
     * optimizer recorded an overflow, and clears the record.
     *
     * @throws IllegalStateException if this scaling is owned by one optimizer (its steps update it)
     */
    public ScaleUpdate update() {
        if (!shared) {
            throw new IllegalStateException("LossScaling.update: this scaling belongs to one AmpOptimizer, whose "
                    + "step() updates it; only a LossScaling.shared(...) is updated by the caller");
        }
        return adjust();
    }

    ScaleUpdate adjust() {
        ScaleUpdate u = scaler.adjust(!overflow);
        scaler = u.next();
        overflow = false;
        generation++;
        return u;
    }

    void recordOverflow() {
        overflow = true;
    }

    /** Counts updates; a scale read in one generation is valid until the next update. */
    long generation() {
        return generation;
    }

    /** Restores the scaler's state from a checkpoint; clears the overflow record. */
    void restore(LossScaleState state) {
        scaler = scaler.restore(state);
        overflow = false;
        generation++;
    }

    @Override
    public String toString() {
        return "LossScaling[" + (shared ? "shared" : "owned") + ", " + scaler + "]";
    }
}
