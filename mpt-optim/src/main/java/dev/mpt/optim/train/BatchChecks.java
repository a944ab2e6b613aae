package dev.mpt.optim.train;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;

import java.util.Arrays;

/** Checks of a classification batch and of the model's output against its labels. */
final class BatchChecks {

    private BatchChecks() {
    }

    /** One label per input row, a non-empty batch, labels {@code >= 0}, finite inputs. */
    static void batch(String op, Tensor inputs, int[] labels) {
        if (inputs.dim() < 1 || inputs.size(0) != labels.length) {
            throw new IllegalArgumentException(op + ": inputs of shape " + Arrays.toString(inputs.shape()) + " for "
                    + labels.length + " labels; the first dimension must be the number of labels");
        }
        if (labels.length == 0) {
            throw new IllegalArgumentException(op + ": empty batch");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException(op + ": label " + labels[i] + " of sample " + i + " is negative");
            }
        }
        if (!inputs.allFinite()) {
            throw new IllegalArgumentException(op + ": inputs hold NaN or infinite values");
        }
    }

    /**
     * {@code inputs} converted to the model's {@code dtype}, refusing values that are finite but
     * overflow it (FP16 holds magnitudes below 65520; above, round-to-nearest gives infinity),
     * since an infinite input makes every step skip and every prediction NaN.
     *
     * @throws IllegalArgumentException naming the largest magnitude and the dtype
     */
    static Tensor toModelDtype(String op, Tensor inputs, DType dtype) {
        Tensor converted = inputs.to(dtype);
        if (converted != inputs && !converted.allFinite() && inputs.allFinite()) {
            float[] v = inputs.toFloatArray();
            int worst = 0;
            for (int i = 1; i < v.length; i++) {
                if (Math.abs(v[i]) > Math.abs(v[worst])) {
                    worst = i;
                }
            }
            throw new IllegalArgumentException(op + ": input value " + v[worst] + " (element " + worst + ") is finite "
                    + "but becomes infinite in the model's " + dtype + "; standardize or rescale the inputs");
        }
        return converted;
    }

    /** For a 2-D output (samples x classes), every label below the number of classes. */
    static void labels(String op, Tensor out, int[] labels) {
        if (out.dim() == 2) {
            int classes = out.size(1);
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] >= classes) {
                    throw new IllegalArgumentException(op + ": label " + labels[i] + " of sample " + i
                            + " is outside [0, " + classes + ") of the model's outputs");
                }
            }
        }
    }
}
