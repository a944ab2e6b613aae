package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.random.RandomGenerator;

/**
 * Inverted dropout: in training mode each element is zeroed with probability {@code p} and the
 * survivors are scaled by {@code 1 / (1 - p)}, so the expectation is unchanged; in evaluation mode
 * (and when {@code p == 0}) it is the identity. The keep mask is drawn from the generator given to
 * the constructor by {@link Tensor#dropout}, so seeded runs repeat exactly. The output has the
 * input's dtype (mask and scale applied in FP32, rounded once).
 */
public final class Dropout extends Module {

    private final double p;
    private final RandomGenerator rng;

    /** Drops with probability {@code p} in {@code [0, 1)}, drawing masks from {@code rng}. */
    public Dropout(double p, RandomGenerator rng) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        }
        this.p = p;
        this.rng = LayerChecks.rng("Dropout", rng);
    }

    /** The drop probability. */
    public double p() {
        return p;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("Dropout", x);
        if (!isTraining() || p == 0) {
            return x;
        }
        return x.dropout(p, rng);
    }

    @Override
    public String toString() {
        return "Dropout(p=" + p + ")";
    }
}
