package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** The activation {@code x > 0 ? x : slope * x}, element-wise, in the input's dtype. */
public final class LeakyReLU extends Module {

    /** PyTorch's default negative slope. */
    public static final float DEFAULT_SLOPE = 0.01f;

    private final float slope;

    /** With slope {@value #DEFAULT_SLOPE}. */
    public LeakyReLU() {
        this(DEFAULT_SLOPE);
    }

    /** With negative slope {@code slope} (finite). */
    public LeakyReLU(float slope) {
        if (!Float.isFinite(slope)) {
            throw new IllegalArgumentException("LeakyReLU: slope must be finite, got " + slope);
        }
        this.slope = slope;
    }

    /** The negative slope. */
    public float slope() {
        return slope;
    }

    @Override
    public Tensor forward(Tensor x) {
        return LayerChecks.input("LeakyReLU", x).leakyRelu(slope);
    }

    @Override
    public String toString() {
        return "LeakyReLU(slope=" + slope + ")";
    }
}
