package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.Arrays;

/** Reshapes {@code [N, d1, d2, ...]} to {@code [N, d1 * d2 * ...]} (a view when the layout allows). */
public final class Flatten extends Module {

    /** Keeps dimension 0 and flattens the rest. */
    public Flatten() {
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("Flatten", x);
        if (x.dim() < 1) {
            throw new IllegalArgumentException("Flatten: input must have a batch dimension, got shape "
                    + Arrays.toString(x.shape()));
        }
        int n = x.size(0);
        return x.reshape(n, n == 0 ? 0 : x.numel() / n);
    }

    @Override
    public String toString() {
        return "Flatten()";
    }
}
