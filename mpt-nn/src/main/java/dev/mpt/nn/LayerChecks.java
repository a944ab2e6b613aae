package dev.mpt.nn;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;

/** Argument checks shared by the layers; messages name the layer, the argument and the values. */
final class LayerChecks {

    private LayerChecks() {
    }

    static Tensor input(String layer, Tensor x) {
        return Objects.requireNonNull(x, () -> layer + ": input");
    }

    /** Requires {@code x.dtype() == dtype}: layers with weights compute in their weights' dtype. */
    static void sameDtype(String layer, Tensor x, DType dtype) {
        if (x.dtype() != dtype) {
            throw new IllegalArgumentException(layer + ": input is " + x.dtype() + " but the weights are " + dtype
                    + "; convert the input with x.to(DType." + dtype + ") or the model with to(DType." + x.dtype() + ")");
        }
    }

    static void rank(String layer, Tensor x, int... allowed) {
        for (int r : allowed) {
            if (x.dim() == r) {
                return;
            }
        }
        throw new IllegalArgumentException(layer + ": input must have rank " + Arrays.toString(allowed)
                + ", got shape " + Arrays.toString(x.shape()));
    }

    static void size(String layer, Tensor x, int dim, int expected, String what) {
        if (x.size(dim) != expected) {
            throw new IllegalArgumentException(layer + ": input dimension " + dim + " (" + what + ") must be "
                    + expected + ", got shape " + Arrays.toString(x.shape()));
        }
    }

    static int positive(String layer, String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(layer + ": " + name + " must be >= 1, got " + v);
        }
        return v;
    }

    static RandomGenerator rng(String layer, RandomGenerator rng) {
        return Objects.requireNonNull(rng, () -> layer + ": rng");
    }
}
