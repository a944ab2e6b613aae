package dev.mpt.core.testing;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Checks autograd gradients against central finite differences, for tests of ops and layers.
 *
 * <pre>{@code
 * GradCheck.assertGradients(in -> in[0].matmul(in[1]).tanh(), Tensor.randn(rng, FP32, 3, 4),
 *         Tensor.randn(rng, FP32, 4, 2));
 * }</pre>
 *
 * <p>The function's output {@code y} is reduced to the scalar {@code L = sum_j w_j y_j} with fixed
 * random weights {@code w} (so every output element is exercised). Autograd's {@code dL/dx_i}
 * is compared with {@code D(h) = (L(x_i + h) - L(x_i - h)) / (2h)}, where L is evaluated in FP32
 * and summed in double, {@code h = 2^-7 max(1, |x_i|)}, and the step actually taken is the
 * difference of the rounded FP32 arguments. The allowed difference is derived from the two error
 * sources of D(h):
 * <ul>
 * <li>rounding: each evaluation of L carries an error of at most {@code K u S}, with
 *     {@code u = 2^-24}, {@code S = sum_j |w_j y_j|} and {@code K = 8} (a few FP32 roundings per
 *     output element, as in the ops mpt tests); the quotient amplifies it to {@code 2 K u S / 2h};
 * <li>truncation: {@code D(h) - L' = L''' h^2 / 6 + O(h^4)}, estimated from the data by Richardson:
 *     {@code |D(2h) - D(h)| / 3}, counted twice for safety;
 * </ul>
 * plus {@code K u max|dL/dx|} for the rounding in the autograd gradient itself. Inputs must be
 * FP32 and away from kinks (relu at 0, max ties) by more than {@code 2h}.
 */
public final class GradCheck {

    /** Relative step {@code h / max(1, |x|)}. */
    static final double STEP = 0x1p-7;
    /** Unit roundoff of FP32. */
    static final double U = 0x1p-24;
    /** FP32 roundings assumed per output element (see class doc). */
    static final double K = 8;

    private GradCheck() {
    }

    /**
     * The outcome of a check: elements compared, the worst ratio {@code |analytic - numeric| / tol}
     * (at most 1 when passing) and a description of the worst element.
     */
    public record Report(int checked, double worstRatio, String worst) {
        /** Whether every element was within its tolerance. */
        public boolean passed() {
            return worstRatio <= 1.0;
        }
    }

    /**
     * Compares gradients of {@code fn} at {@code inputs} (FP32, left unchanged) with finite
     * differences; weights drawn with seed 42.
     */
    public static Report check(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        return check(42L, fn, inputs);
    }

    /** As {@link #check(Function, Tensor...)}, with the seed of the output weights. */
    public static Report check(long seed, Function<Tensor[], Tensor> fn, Tensor... inputs) {
        Objects.requireNonNull(fn, "GradCheck: fn");
        Objects.requireNonNull(inputs, "GradCheck: inputs");
        if (inputs.length == 0) {
            throw new IllegalArgumentException("GradCheck: no inputs");
        }
        Tensor[] leaves = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Objects.requireNonNull(inputs[i], "GradCheck: input " + i);
            if (inputs[i].dtype() != DType.FP32) {
                throw new IllegalArgumentException("GradCheck: input " + i + " is " + inputs[i].dtype()
                        + "; finite differences need FP32 inputs");
            }
            leaves[i] = Tensor.zeros(inputs[i].shape()).copy_(inputs[i]).requiresGrad(true);
        }
        Tensor y = fn.apply(leaves);
        float[] w = new float[y.numel()];
        SplittableRandom rng = new SplittableRandom(seed);
        for (int j = 0; j < w.length; j++) {
            w[j] = (float) (rng.nextDouble(0.5, 1.5) * (rng.nextBoolean() ? 1 : -1));
        }
        Tensor wt = Tensor.of(w, y.shape());
        y.to(DType.FP32).mul(wt).sum().backward();

        double worstRatio = 0;
        String worst = "none";
        int checked = 0;
        for (int i = 0; i < leaves.length; i++) {
            Tensor g = leaves[i].grad();
            float[] an = g == null ? new float[leaves[i].numel()] : g.toFloatArray();
            double maxAn = 0;
            for (float v : an) {
                maxAn = Math.max(maxAn, Math.abs(v));
            }
            float[] x = leaves[i].floatData();
            int off = leaves[i].storageOffset();
            for (int j = 0; j < an.length; j++) {
                float orig = x[off + j];
                double h = STEP * Math.max(1.0, Math.abs(orig));
                double[] d1 = difference(fn, leaves, x, off + j, orig, h, w);
                double[] d2 = difference(fn, leaves, x, off + j, orig, 2 * h, w);
                x[off + j] = orig;
                double numeric = d1[0];
                double tol = 2 * K * U * d1[1] / d1[2] + 2 * Math.abs(d2[0] - d1[0]) / 3 + K * U * maxAn;
                double err = Math.abs(an[j] - numeric);
                double ratio = tol == 0 ? (err == 0 ? 0 : Double.POSITIVE_INFINITY) : err / tol;
                if (!(ratio <= worstRatio)) {
                    worstRatio = Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : ratio;
                    worst = "input " + i + " element " + j + " (x=" + orig + "): autograd " + an[j] + ", numeric "
                            + numeric + ", |diff| " + err + ", tol " + tol;
                }
                checked++;
            }
        }
        return new Report(checked, worstRatio, worst);
    }

    /**
     * Checks like {@link #check(Function, Tensor...)} and throws {@link AssertionError} describing
     * the worst element when any gradient is outside its tolerance.
     */
    public static void assertGradients(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        Report r = check(fn, inputs);
        if (!r.passed()) {
            throw new AssertionError("gradient check failed (worst ratio " + r.worstRatio() + "): " + r.worst());
        }
    }

    /** {D(h), S = max over both evaluations of sum |w y|, actual step x+ - x-}. */
    private static double[] difference(Function<Tensor[], Tensor> fn, Tensor[] leaves, float[] x, int p, float orig,
                                       double h, float[] w) {
        float xp = (float) (orig + h);
        float xm = (float) (orig - h);
        x[p] = xp;
        double[] lp = evaluate(fn, leaves, w);
        x[p] = xm;
        double[] lm = evaluate(fn, leaves, w);
        double step = (double) xp - (double) xm;
        return new double[] {(lp[0] - lm[0]) / step, Math.max(lp[1], lm[1]), step};
    }

    /** {L = sum w y, S = sum |w y|} in double. */
    private static double[] evaluate(Function<Tensor[], Tensor> fn, Tensor[] leaves, float[] w) {
        float[] y;
        try (NoGrad _ = NoGrad.enter()) {
            y = fn.apply(leaves).toFloatArray();
        }
        if (y.length != w.length) {
            throw new IllegalStateException("GradCheck: fn returned " + y.length + " elements, first call "
                    + w.length + "; fn must be deterministic");
        }
        double l = 0;
        double s = 0;
        for (int j = 0; j < y.length; j++) {
            l += (double) w[j] * y[j];
            s += Math.abs((double) w[j] * y[j]);
        }
        return new double[] {l, s};
    }
}
