package dev.mpt.optim.train;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;

import java.util.Arrays;

/** Checks of a batch (class labels or float targets) and of the model's output against its data. */
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

    /** One target row per input row, a non-empty batch, finite inputs and targets. */
    static void batch(String op, Tensor inputs, Tensor targets) {
        if (inputs.dim() < 1 || targets.dim() < 1 || inputs.size(0) != targets.size(0)) {
            throw new IllegalArgumentException(op + ": inputs of shape " + Arrays.toString(inputs.shape())
                    + " for targets of shape " + Arrays.toString(targets.shape())
                    + "; the first dimension of both must be the number of samples");
        }
        if (inputs.size(0) == 0) {
            throw new IllegalArgumentException(op + ": empty batch");
        }
        if (!inputs.allFinite()) {
            throw new IllegalArgumentException(op + ": inputs hold NaN or infinite values");
        }
        if (!targets.allFinite()) {
            throw new IllegalArgumentException(op + ": targets hold NaN or infinite values");
        }
    }

    /**
     * A classifier's output for {@code samples} samples of data with {@code numClasses} classes
     * must be {@code [samples, numClasses]}: a wider or narrower last layer is refused, naming both
     * numbers.
     */
    static void classes(String op, Tensor out, int samples, int numClasses) {
        if (out.dim() != 2 || out.size(0) != samples) {
            throw new IllegalArgumentException(op + ": the model's output has shape " + Arrays.toString(out.shape())
                    + " for " + samples + " samples; a classifier must output [samples, classes] = [" + samples + ", "
                    + numClasses + "]");
        }
        if (out.size(1) != numClasses) {
            throw new IllegalArgumentException(op + ": the model outputs " + out.size(1) + " classes but the dataset "
                    + "has " + numClasses + "; give the model's last layer " + numClasses + " outputs, or build the "
                    + "dataset with numClasses " + out.size(1));
        }
    }

    /** A model's output for {@code samples} samples must have the shape {@code [samples, targetShape...]}. */
    static void targetShape(String op, Tensor out, int samples, int[] targetShape) {
        int[] want = new int[targetShape.length + 1];
        want[0] = samples;
        System.arraycopy(targetShape, 0, want, 1, targetShape.length);
        if (!Arrays.equals(out.shape(), want)) {
            throw new IllegalArgumentException(op + ": the model's output has shape " + Arrays.toString(out.shape())
                    + " but the targets of " + samples + " samples have shape " + Arrays.toString(want)
                    + " (targetShape " + Arrays.toString(targetShape) + " per sample)");
        }
    }
}
