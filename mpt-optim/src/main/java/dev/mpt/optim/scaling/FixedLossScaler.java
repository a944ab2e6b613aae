package dev.mpt.optim.scaling;

import java.util.Objects;

/**
 * A loss scaler whose scale never changes. A step with inf/NaN gradients is still skipped and
 * reported; since the scale cannot go lower, such a step is also reported as
 * {@link ScaleDecision#atMinimumAndOverflowing()} and logged once per streak of overflows.
 */
public final class FixedLossScaler implements LossScaler {

    private final ScalerState state;

    FixedLossScaler(double scale) {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException("LossScaler.fixed: scale must be finite and > 0, got " + scale);
        }
        this.state = new ScalerState(scale, 0, 1, 0, false);
    }

    private FixedLossScaler(ScalerState state) {
        this.state = state;
    }

    @Override
    public double scale() {
        return state.scale();
    }

    @Override
    public double minScale() {
        return state.scale();
    }

    @Override
    public ScalerState state() {
        return state;
    }

    @Override
    public ScaleDecision adjust(boolean gradsFinite) {
        if (gradsFinite) {
            var next = state.atMinimumOverflowing()
                    ? new FixedLossScaler(new ScalerState(scale(), 0, 1, state.skippedSteps(), false))
                    : this;
            return new ScaleDecision(false, scale(), scale(), false, next);
        }
        var next = new FixedLossScaler(new ScalerState(scale(), 0, 1, state.skippedSteps() + 1, true));
        if (!state.atMinimumOverflowing()) {
            MinimumScaleWarning.log(next, next.state.skippedSteps());
        }
        return new ScaleDecision(true, scale(), scale(), true, next);
    }

    @Override
    public FixedLossScaler restore(ScalerState s) {
        Objects.requireNonNull(s, "LossScaler.restore: state is null");
        if (s.scale() != scale() || s.cleanSteps() != 0 || s.hysteresisLeft() != 1) {
            throw new IllegalArgumentException("LossScaler.restore: state " + s
                    + " does not belong to a fixed scaler with scale " + scale()
                    + " (needs that scale, cleanSteps 0, hysteresisLeft 1)");
        }
        return new FixedLossScaler(s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FixedLossScaler f && f.state.equals(state);
    }

    @Override
    public int hashCode() {
        return state.hashCode();
    }

    @Override
    public String toString() {
        return "FixedLossScaler[scale=" + scale() + ", skippedSteps=" + state.skippedSteps() + "]";
    }
}
