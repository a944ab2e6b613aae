package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** The activation GELU in the tanh approximation, {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, element-wise, in the input's dtype. */
public final class GELU extends Module {

    /** The activation (stateless). */
    public GELU() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return LayerChecks.input("GELU", x).gelu();
    }

    @Override
    public String toString() {
        return "GELU()";
    }
}
