package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** The activation tanh(x), element-wise, in the input's dtype. */
public final class Tanh extends Module {

    /** The activation (stateless). */
    public Tanh() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return LayerChecks.input("Tanh", x).tanh();
    }

    @Override
    public String toString() {
        return "Tanh()";
    }
}
