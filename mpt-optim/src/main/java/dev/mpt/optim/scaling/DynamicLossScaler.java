package dev.mpt.optim.scaling;

import java.util.Objects;

/**
 * A loss scaler that lowers the scale when gradients overflow and raises it after a run of
 * finite steps, so the scale tracks the largest value that does not overflow (Micikevicius et
 * al., ICLR 2018, section 3.2; the defaults follow common practice).
 *
 * <p>Rules, applied by {@link #adjust(boolean)} to the step computed with {@link #scale()}:
 * <ul>
 *   <li>finite gradients: the step is applied; {@code cleanSteps + 1}, and when it reaches the
 *       growth interval the scale becomes {@code min(scale * growthFactor, maxScale)} and the
 *       counter restarts; the hysteresis is refilled.</li>
 *   <li>inf/NaN gradients: the step is skipped; the counter restarts; one unit of hysteresis is
 *       used, and when none was left beyond this one the scale becomes
 *       {@code max(scale * backoffFactor, minScale)}. Hysteresis {@code h} thus tolerates
 *       {@code h - 1} consecutive overflows before backing off; once it backs off it keeps backing
 *       off on every further consecutive overflow.</li>
 *   <li>an overflow at {@code minScale} cannot be helped by backing off: it is flagged in
 *       {@link ScaleDecision#atMinimumAndOverflowing()} and logged once per streak.</li>
 * </ul>
 *
 * <p>The default minimum is 1, not a tiny power of two: a scale below 1 shrinks gradients, the
 * opposite of what loss scaling is for, and it is only needed when the unscaled FP16 gradients
 * themselves overflow (|g| > 65504), which usually means divergence or a loss that should be
 * normalised. Stopping at 1 and saying so loudly helps more than silently backing off to 2^-14;
 * a builder can still allow a smaller minimum.
 */
public final class DynamicLossScaler implements LossScaler {

    /** Default initial scale: 2^16. */
    public static final double DEFAULT_INITIAL_SCALE = 0x1p16;
    /** Default growth factor: 2. */
    public static final double DEFAULT_GROWTH_FACTOR = 2.0;
    /** Default back-off factor: 0.5. */
    public static final double DEFAULT_BACKOFF_FACTOR = 0.5;
    /** Default number of consecutive finite steps before growing: 2000. */
    public static final int DEFAULT_GROWTH_INTERVAL = 2000;
    /** Default minimum scale: 1 (see the class comment). */
    public static final double DEFAULT_MIN_SCALE = 1.0;
    /** Default maximum scale: 2^24 (FP16's smallest subnormal 2^-24 then maps to 1). */
    public static final double DEFAULT_MAX_SCALE = 0x1p24;
    /** Default hysteresis: 1, back off on the first overflow. */
    public static final int DEFAULT_HYSTERESIS = 1;

    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private final double minScale;
    private final double maxScale;
    private final int hysteresis;
    private final ScalerState state;

    private DynamicLossScaler(Builder b, ScalerState state) {
        this.growthFactor = b.growthFactor;
        this.backoffFactor = b.backoffFactor;
        this.growthInterval = b.growthInterval;
        this.minScale = b.minScale;
        this.maxScale = b.maxScale;
        this.hysteresis = b.hysteresis;
        this.state = state;
    }

    private DynamicLossScaler(DynamicLossScaler config, ScalerState state) {
        this.growthFactor = config.growthFactor;
        this.backoffFactor = config.backoffFactor;
        this.growthInterval = config.growthInterval;
        this.minScale = config.minScale;
        this.maxScale = config.maxScale;
        this.hysteresis = config.hysteresis;
        this.state = state;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public double scale() {
        return state.scale();
    }

    @Override
    public double minScale() {
        return minScale;
    }

    /** The largest scale growth can reach. */
    public double maxScale() {
        return maxScale;
    }

    /** The factor applied to the scale after {@link #growthInterval()} finite steps. */
    public double growthFactor() {
        return growthFactor;
    }

    /** The factor applied to the scale when it backs off. */
    public double backoffFactor() {
        return backoffFactor;
    }

    /** Consecutive finite steps before the scale grows. */
    public int growthInterval() {
        return growthInterval;
    }

    /** Consecutive overflows up to and including the one that backs off. */
    public int hysteresis() {
        return hysteresis;
    }

    @Override
    public ScalerState state() {
        return state;
    }

    @Override
    public ScaleDecision adjust(boolean gradsFinite) {
        double s = state.scale();
        if (gradsFinite) {
            int clean = state.cleanSteps() + 1;
            double next = s;
            if (clean >= growthInterval) {
                next = Math.min(s * growthFactor, maxScale);
                clean = 0;
            }
            var n = with(new ScalerState(next, clean, hysteresis, state.skippedSteps(), false));
            return new ScaleDecision(false, s, next, false, n);
        }
        long skipped = state.skippedSteps() + 1;
        boolean backOff = state.hysteresisLeft() <= 1;
        int left = backOff ? 1 : state.hysteresisLeft() - 1;
        double next = backOff ? Math.max(s * backoffFactor, minScale) : s;
        boolean atMinimum = s <= minScale;
        var n = with(new ScalerState(next, 0, left, skipped, atMinimum));
        if (atMinimum && !state.atMinimumOverflowing()) {
            MinimumScaleWarning.log(n, skipped);
        }
        return new ScaleDecision(true, s, next, atMinimum, n);
    }

    private DynamicLossScaler with(ScalerState s) {
        return s.equals(state) ? this : new DynamicLossScaler(this, s);
    }

    @Override
    public DynamicLossScaler restore(ScalerState s) {
        Objects.requireNonNull(s, "LossScaler.restore: state is null");
        if (s.scale() < minScale || s.scale() > maxScale) {
            throw new IllegalArgumentException("LossScaler.restore: scale " + s.scale()
                    + " is outside [" + minScale + ", " + maxScale + "] of " + this);
        }
        if (s.cleanSteps() >= growthInterval) {
            throw new IllegalArgumentException("LossScaler.restore: cleanSteps " + s.cleanSteps()
                    + " must be < growthInterval " + growthInterval);
        }
        if (s.hysteresisLeft() > hysteresis) {
            throw new IllegalArgumentException("LossScaler.restore: hysteresisLeft " + s.hysteresisLeft()
                    + " must be <= hysteresis " + hysteresis);
        }
        return new DynamicLossScaler(this, s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DynamicLossScaler d
                && d.growthFactor == growthFactor && d.backoffFactor == backoffFactor
                && d.growthInterval == growthInterval && d.minScale == minScale
                && d.maxScale == maxScale && d.hysteresis == hysteresis && d.state.equals(state);
    }

    @Override
    public int hashCode() {
        return Objects.hash(growthFactor, backoffFactor, growthInterval, minScale, maxScale, hysteresis, state);
    }

    @Override
    public String toString() {
        return "DynamicLossScaler[scale=" + state.scale() + ", growthFactor=" + growthFactor
                + ", backoffFactor=" + backoffFactor + ", growthInterval=" + growthInterval
                + ", minScale=" + minScale + ", maxScale=" + maxScale + ", hysteresis=" + hysteresis
                + ", cleanSteps=" + state.cleanSteps() + ", hysteresisLeft=" + state.hysteresisLeft()
                + ", skippedSteps=" + state.skippedSteps() + "]";
    }

    /** Collects a dynamic scaler's hyper-parameters; {@link #build()} validates them. */
    public static final class Builder {
        private double initialScale = DEFAULT_INITIAL_SCALE;
        private double growthFactor = DEFAULT_GROWTH_FACTOR;
        private double backoffFactor = DEFAULT_BACKOFF_FACTOR;
        private int growthInterval = DEFAULT_GROWTH_INTERVAL;
        private double minScale = DEFAULT_MIN_SCALE;
        private double maxScale = DEFAULT_MAX_SCALE;
        private int hysteresis = DEFAULT_HYSTERESIS;

        private Builder() {
        }

        /** The scale of the first step (default 2^16). */
        public Builder initialScale(double v) {
            initialScale = v;
            return this;
        }

        /** The factor the scale grows by, {@code > 1} (default 2). */
        public Builder growthFactor(double v) {
            growthFactor = v;
            return this;
        }

        /** The factor the scale backs off by, in (0, 1) (default 0.5). */
        public Builder backoffFactor(double v) {
            backoffFactor = v;
            return this;
        }

        /** Consecutive finite steps before growing, {@code >= 1} (default 2000). */
        public Builder growthInterval(int v) {
            growthInterval = v;
            return this;
        }

        /** The smallest scale, finite and {@code > 0} (default 1). */
        public Builder minScale(double v) {
            minScale = v;
            return this;
        }

        /** The largest scale, finite (default 2^24). */
        public Builder maxScale(double v) {
            maxScale = v;
            return this;
        }

        /** Consecutive overflows up to and including the one that backs off, {@code >= 1} (default 1). */
        public Builder hysteresis(int v) {
            hysteresis = v;
            return this;
        }

        /**
         * Validates the settings and builds the scaler.
         *
         * @throws IllegalArgumentException naming the setting and its value when one is out of range
         */
        public DynamicLossScaler build() {
            requirePositiveFinite("initialScale", initialScale);
            requirePositiveFinite("minScale", minScale);
            requirePositiveFinite("maxScale", maxScale);
            if (!(growthFactor > 1) || !Double.isFinite(growthFactor)) {
                throw new IllegalArgumentException(
                        "DynamicLossScaler: growthFactor must be finite and > 1, got " + growthFactor);
            }
            if (!(backoffFactor > 0 && backoffFactor < 1)) {
                throw new IllegalArgumentException(
                        "DynamicLossScaler: backoffFactor must be in (0, 1), got " + backoffFactor);
            }
            if (growthInterval < 1) {
                throw new IllegalArgumentException(
                        "DynamicLossScaler: growthInterval must be >= 1, got " + growthInterval);
            }
            if (hysteresis < 1) {
                throw new IllegalArgumentException("DynamicLossScaler: hysteresis must be >= 1, got " + hysteresis);
            }
            if (!(minScale <= initialScale && initialScale <= maxScale)) {
                throw new IllegalArgumentException("DynamicLossScaler: need minScale <= initialScale <= maxScale, got "
                        + minScale + ", " + initialScale + ", " + maxScale);
            }
            return new DynamicLossScaler(this, new ScalerState(initialScale, 0, hysteresis, 0, false));
        }

        private static void requirePositiveFinite(String name, double v) {
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new IllegalArgumentException("DynamicLossScaler: " + name + " must be finite and > 0, got " + v);
            }
        }
    }
}
