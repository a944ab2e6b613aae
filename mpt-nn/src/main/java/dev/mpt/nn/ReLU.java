package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** The activation max(x, 0), element-wise, in the input's dtype. */
public final class ReLU extends Module {

    /** The activation (stateless). */
    public ReLU() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return LayerChecks.input("ReLU", x).relu();
    }

    @Override
    public String toString() {
        return "ReLU()";
    }
}
