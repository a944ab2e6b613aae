package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** The activation 1 / (1 + e^-x), element-wise, in the input's dtype. */
public final class Sigmoid extends Module {

    /** The activation (stateless). */
    public Sigmoid() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return LayerChecks.input("Sigmoid", x).sigmoid();
    }

    @Override
    public String toString() {
        return "Sigmoid()";
    }
}
