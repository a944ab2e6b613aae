package dev.mpt.optim.amp;

import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.scaling.ScaleDecision;
import dev.mpt.optim.scaling.ScalerState;

import java.util.Objects;

/**
 * Holds the current loss scale of one or more {@link AmpOptimizer}s: a mutable holder of an
 * immutable {@link LossScaler} value, plus whether any gradients overflowed since the last
 * {@link #update()}.
 *
 * <p>An optimizer built with {@link AmpOptimizer.Builder#lossScaler(LossScaler)} owns its
 * holder and updates it at the end of each of its steps. One made with {@link #shared(LossScaler)}
 * and passed to several optimizers ({@link AmpOptimizer.Builder#sharedScale(ScaleHolder)}) is
 * updated by the caller, once per iteration, after every optimizer sharing it has stepped: an
 * overflow in any of them backs the scale off (or holds its growth) for all of them. A GAN with
 * one shared scale:
 *
 * <pre>{@code
 * ScaleHolder scaling = ScaleHolder.shared(LossScaler.dynamic());
 * var dOpt = AmpOptimizer.builder(disc, new Adam(2e-4)).precision(MIXED_FP16).sharedScale(scaling).build();
 * var gOpt = AmpOptimizer.builder(gen, new Adam(2e-4)).precision(MIXED_FP16).sharedScale(scaling).build();
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
public final class ScaleHolder {

    private final boolean shared;
    private LossScaler scaler;
    private boolean overflow;
    private long generation;

    private ScaleHolder(LossScaler scaler, boolean shared) {
        this.scaler = Objects.requireNonNull(scaler, "ScaleHolder: scaler is null");
        this.shared = shared;
    }

    /** A holder to share between optimizers; call {@link #update()} once per iteration. */
    public static ScaleHolder shared(LossScaler scaler) {
        return new ScaleHolder(scaler, true);
    }

    /** A holder owned by one optimizer, updated by its steps. */
    static ScaleHolder owned(LossScaler scaler) {
        return new ScaleHolder(scaler, false);
    }

    /** Whether this holder is shared (updated by the caller) rather than owned by one optimizer. */
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
     * Ends an iteration of a shared holder: adjusts the scale with "all gradients finite" unless an
     * optimizer recorded an overflow, and clears the record.
     *
     * @throws IllegalStateException if this holder is owned by one optimizer (its steps update it)
     */
    public ScaleDecision update() {
        if (!shared) {
            throw new IllegalStateException("ScaleHolder.update: this scaling belongs to one AmpOptimizer, whose "
                    + "step() updates it; only a ScaleHolder.shared(...) is updated by the caller");
        }
        return adjust();
    }

    ScaleDecision adjust() {
        ScaleDecision u = scaler.adjust(!overflow);
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
    void restore(ScalerState state) {
        scaler = scaler.restore(state);
        overflow = false;
        generation++;
    }

    @Override
    public String toString() {
        return "ScaleHolder[" + (shared ? "shared" : "owned") + ", " + scaler + "]";
    }
}
