package dev.mpt.examples;

import dev.mpt.core.number.DType;
import java.io.Serializable;
import java.util.Map;

/**
 * What one training run of an example measured, for the comparison table (serializable: a Spark
 * task returns it to the driver).
 *
 * @param label            the run's name, e.g. {@code fp32} or {@code mixed-fp16}
 * @param metricName       what {@code metric} is, e.g. {@code test accuracy} or {@code val bpc}
 * @param metric           the final value of that metric
 * @param secondsPerEpoch  training time per epoch (evaluation excluded), in seconds
 * @param weightBytes      bytes of the model's parameters by dtype
 * @param masterBytes      bytes of the FP32 master copies the optimizer keeps (0 without masters)
 * @param activationBytes  bytes of the layer outputs of one forward pass of one batch, by dtype
 * @param steps            step attempts
 * @param skippedSteps     steps skipped because the gradients overflowed
 * @param finalScale       the loss scale after the last step
 * @param lossCurve        {@code [steps, losses]}, the training loss at each step
 */
public record RunResult(String label, String metricName, double metric, double secondsPerEpoch,
                        Map<DType, Long> weightBytes, long masterBytes, Map<DType, Long> activationBytes,
                        long steps, long skippedSteps, double finalScale, double[][] lossCurve)
        implements Serializable {

    /** Copies the maps. */
    public RunResult {
        weightBytes = Map.copyOf(weightBytes);
        activationBytes = Map.copyOf(activationBytes);
    }
}
