package dev.mpt.core;

import dev.mpt.core.number.DType;
import java.util.Objects;
import java.util.random.RandomGenerator;

/** Inverted dropout: keep each element with probability 1 - p and scale kept ones by 1/(1 - p). */
final class DropoutOp {

    private DropoutOp() {
    }

    static Tensor dropout(Tensor x, double p, RandomGenerator rng) {
        Objects.requireNonNull(x, "dropout");
        Objects.requireNonNull(rng, "dropout: rng");
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout: probability must be in [0, 1), got " + p);
        }
        if (p == 0) {
            return x;
        }
        float scale = (float) (1.0 / (1.0 - p));
        float[] xv = x.readFloats();
        float[] mask = new float[xv.length];
        float[] y = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            mask[i] = rng.nextDouble() >= p ? scale : 0f;
        }
        for (int i = 0; i < xv.length; i++) {
            y[i] = xv[i] * mask[i];
        }
        Tensor out = Conversions.wrap(y, x.dtype, x.shape);
        return Autograd.record(out, "dropout", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[gv.length];
            for (int i = 0; i < gv.length; i++) {
                gx[i] = gv[i] * mask[i];
            }
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, x.shape)};
        }, x);
    }
}
