package dev.mpt.optim.train;

import dev.mpt.core.Tensor;

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
