package dev.mpt.optim.scaling;

/**
 * The loss scale of mixed-precision training as a small state machine (Micikevicius et al.,
 * "Mixed Precision Training", ICLR 2018, section 3.2): the loss is multiplied by {@link #scale()}
 * before the FP16 backward pass, so that small gradients land in FP16's range instead of flushing
 * to zero, and the gradients are divided by it again in FP32 before the update.
 *
 * <pre>{@code
 * LossScaler scaler = LossScaler.dynamic();
 * for (Batch b : batches) {
 *     backward(loss(b) * scaler.scale());                       // FP16 gradients, scaled
 *     boolean finite = Unscale.unscale(DType.FP16, g16, 0, g32, 0, n, scaler.scale());
 *     ScaleDecision u = scaler.adjust(finite);
 *     if (!u.skipped()) {
 *         optimizerStep(g32);                                   // FP32 master weights
 *     }
 *     scaler = u.next();                                        // the scale for the next step
 * }
 * }</pre>
 *
 * <p>Scalers are immutable values: {@link #adjust(boolean)} returns the next scaler inside a
 * {@link ScaleDecision} instead of changing this one (as DeepMind's jmp does). That keeps the
 * order of calls free of hidden lifecycle rules, makes a step's before and after states
 * inspectable and comparable in tests, lets a checkpoint take the {@link #state()} at any time,
 * and lets two optimizers (a GAN's) hold two independent scalers without sharing anything.
 *
 * <p>Two kinds exist: {@link #fixed(double)} never changes its scale (an overflow still skips
 * the step and is reported), {@link #dynamic()} halves the scale on overflow and doubles it after
 * a run of finite steps. Every step whose gradients hold an inf or NaN is skipped, whatever the
 * kind or the hysteresis.
 */
public sealed interface LossScaler permits FixedLossScaler, DynamicLossScaler {

    /**
     * A scaler whose scale never changes.
     *
     * @param scale finite and {@code > 0}; a power of two keeps unscaling exact
     * @throws IllegalArgumentException if {@code scale} is not finite or not positive
     */
    static FixedLossScaler fixed(double scale) {
        return new FixedLossScaler(scale);
    }

    /**
     * A dynamic scaler with the defaults of {@link DynamicLossScaler.Builder}: initial scale 2^16,
     * growth x2 after 2000 finite steps, back-off x0.5, scale in [1, 2^24], hysteresis 1.
     */
    static DynamicLossScaler dynamic() {
        return DynamicLossScaler.builder().build();
    }

    /** A builder for a dynamic scaler, starting from the defaults of {@link #dynamic()}. */
    static DynamicLossScaler.Builder dynamicBuilder() {
        return DynamicLossScaler.builder();
    }

    /**
     * The scale to multiply this step's loss by. Multiply the FP32 loss by {@code (float) scale()},
     * the same FP32 value the unscaling ({@code dev.mpt.optim.amp.Unscale}) divides by, so that unscaling inverts the scaling.
     */
    double scale();

    /** The smallest scale this scaler can reach (the scale itself for a fixed scaler). */
    double minScale();

    /** The current state, for checkpoints. */
    ScalerState state();

    /**
     * Decides the outcome of the step whose gradients were computed with {@link #scale()}.
     *
     * @param gradsFinite whether every gradient value was finite after unscaling
     * @return whether to skip the step, and the scaler for the next step
     */
    ScaleDecision adjust(boolean gradsFinite);

    /**
     * Returns a scaler with this one's hyper-parameters and the given state (from a checkpoint).
     *
     * @throws NullPointerException     if {@code state} is null
     * @throws IllegalArgumentException if the state cannot belong to this scaler (scale outside
     *                                  its bounds, counters beyond its interval or hysteresis)
     */
    LossScaler restore(ScalerState state);
}
