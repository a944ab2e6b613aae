package dev.mpt.optim.scaling;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place that reports a scale stuck at its minimum while gradients overflow. */
final class MinimumScaleWarning {

    private static final Logger LOG = LoggerFactory.getLogger(LossScaler.class);

    private MinimumScaleWarning() {
    }

    /** Logs once, on the first step of a streak of overflows at the minimum scale. */
    static void log(LossScaler scaler, long skippedSteps) {
        LOG.warn("Loss scale {} is at its minimum and the gradients still hold inf/NaN; the step is "
                        + "skipped and so will be every step until the gradients are finite again "
                        + "({} steps skipped so far). The model may be diverging, or its unscaled "
                        + "gradients exceed the FP16 range: lower the learning rate, check the loss, "
                        + "or allow a smaller (minimum) scale. Scaler: {}",
                scaler.scale(), skippedSteps, scaler);
    }
}
