package dev.mpt.core;

import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Layer normalization (Ba et al. 2016) over the trailing {@code n} elements of each row as one fused,
 * differentiable op:
 * <pre>
 * mean = sum_k x_k / n,  var = sum_k (x_k - mean)^2 / n      per row, biased variance
 * xhat = (x - mean) / sqrt(var + eps),  y = xhat gamma + beta
 * </pre>
 * It replaces the chain of tensor ops (mean, variance, sub, add, sqrt, div, mul, add) that would each
 * write a full-size tensor and record a node, with the same forward arithmetic step for step, so the
 * output is bit for bit that chain's: x widened to FP32 (exact); the row sum accumulated in double
 * (four partial sums, {@code Reduce.sumRun}), the mean {@code (float) (sum / n)}; the variance two-pass
 * in double around the double mean, rounded to FP32; {@code x - mean}, {@code var + eps}, the square
 * root, the division, the scale and the shift each one FP32 rounding; the result rounded once to x's
 * dtype.
 *
 * <p>Backward, with {@code sigma = sqrt(var + eps)} and {@code dxhat = g gamma} (FP32 products):
 * <pre>
 * dx_k     = (dxhat_k - a / n - xhat_k b / n) / sigma    a = sum_k dxhat_k, b = sum_k dxhat_k xhat_k
 * dgamma_k = sum_rows g_k xhat_k,   dbeta_k = sum_rows g_k
 * </pre>
 * with the sums in double and each result rounded once to FP32; {@code xhat} is recomputed from the
 * saved per-row mean and sigma exactly as the forward computed it. The parameter gradients sum the rows
 * in chunks of {@link #chunkRows} rows (a function of n only), then the chunks in order, so no result
 * depends on the thread count.
 */
public final class LayerNormOp {

    private LayerNormOp() {
    }

    /**
     * Normalizes each row of the trailing {@code n} elements of {@code x}.
     *
     * @param x      input, FP32, FP16 or BF16, whose element count is a multiple of n
     * @param n      elements per row (the product of the normalized dimensions), at least 1
     * @param weight gamma, FP32 with n elements, or null (then bias must be null too: no affine map)
     * @param bias   beta, FP32 with n elements, or null
     * @param eps    added to the variance, finite and positive
     * @return y, x's shape and dtype
     * @throws NullPointerException if x is null
     * @throws IllegalArgumentException on a bad size, dtype or eps, naming the argument
     */
    public static Tensor forward(Tensor x, int n, Tensor weight, Tensor bias, float eps) {
        Objects.requireNonNull(x, "layerNorm: 'x' is null");
        if (n < 1 || x.numel % n != 0) {
            throw new IllegalArgumentException("layerNorm: 'n' must be >= 1 and divide the input's " + x.numel
                    + " elements (shape " + Arrays.toString(x.shape) + "), got " + n);
        }
        if ((weight == null) != (bias == null)) {
            throw new IllegalArgumentException("layerNorm: 'weight' and 'bias' must both be given or both be null");
        }
        if (weight != null) {
            param("weight", weight, n);
            param("bias", bias, n);
        }
        if (!(eps > 0 && Float.isFinite(eps))) {
            throw new IllegalArgumentException("layerNorm: 'eps' must be finite and > 0, got " + eps);
        }
        Tensor xc = Conversions.f32(x.contiguous());
        float[] xv = xc.floats;
        int xo = xc.offset;
        int rows = x.numel / n;
        float[] gamma = weight == null ? null : weight.contiguous().readFloats();
        float[] beta = bias == null ? null : bias.contiguous().readFloats();
        float[] mean = new float[rows];
        float[] sigma = new float[rows];
        float[] y = new float[x.numel];
        Parallel.forRange(rows, grain(n), (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = xo + r * n;
                double sum = Reduce.sumRun(xv, base, n);
                double meanD = sum / n;
                double ss = 0;
                for (int k = 0; k < n; k++) {
                    double d = xv[base + k] - meanD;
                    ss += d * d;
                }
                float m = (float) (sum * (1.0 / n));
                float s = (float) Math.sqrt((float) (ss / n) + eps);
                mean[r] = m;
                sigma[r] = s;
                int yo = r * n;
                for (int k = 0; k < n; k++) {
                    float h = (xv[base + k] - m) / s;
                    y[yo + k] = gamma == null ? h : h * gamma[k] + beta[k];
                }
            }
        });
        Tensor out = Conversions.wrap(y, x.dtype, x.shape);
        int[] paramShape = weight == null ? null : weight.shape.clone();
        return Autograd.record(out, "layer_norm", g -> backward(Conversions.f32(g.contiguous()), xc, n, rows, gamma,
                mean, sigma, Autograd.needs(x), Autograd.needs(weight) || Autograd.needs(bias), paramShape), x, weight,
                bias);
    }

    private static Tensor[] backward(Tensor g, Tensor xc, int n, int rows, float[] gamma, float[] mean,
                                     float[] sigma, boolean needX, boolean needParams, int[] paramShape) {
        float[] gv = g.floats;
        int go = g.offset;
        float[] xv = xc.floats;
        int xo = xc.offset;
        float[] dx = needX ? new float[rows * n] : null;
        int chunkRows = chunkRows(n);
        int chunks = (rows + chunkRows - 1) / chunkRows;
        double[][] dGamma = needParams ? new double[chunks][] : null;
        double[][] dBeta = needParams ? new double[chunks][] : null;
        Parallel.forRange(chunks, 1, (from, to) -> {
            float[] h = new float[n];
            float[] dh = new float[n];
            for (int c = from; c < to; c++) {
                double[] pg = needParams ? new double[n] : null;
                double[] pb = needParams ? new double[n] : null;
                int end = Math.min(rows, (c + 1) * chunkRows);
                for (int r = c * chunkRows; r < end; r++) {
                    int xb = xo + r * n;
                    int gb = go + r * n;
                    float m = mean[r];
                    float s = sigma[r];
                    double a = 0;
                    double b = 0;
                    for (int k = 0; k < n; k++) {
                        h[k] = (xv[xb + k] - m) / s;
                        dh[k] = gamma == null ? gv[gb + k] : gv[gb + k] * gamma[k];
                        a += dh[k];
                        b += (double) dh[k] * h[k];
                    }
                    if (needX) {
                        double an = a / n;
                        double bn = b / n;
                        int o = r * n;
                        for (int k = 0; k < n; k++) {
                            dx[o + k] = (float) ((dh[k] - an - h[k] * bn) / s);
                        }
                    }
                    if (needParams) {
                        for (int k = 0; k < n; k++) {
                            pg[k] += (double) gv[gb + k] * h[k];
                            pb[k] += gv[gb + k];
                        }
                    }
                }
                if (needParams) {
                    dGamma[c] = pg;
                    dBeta[c] = pb;
                }
            }
        });
        Tensor gx = needX ? Conversions.wrap(dx, DType.FP32, xc.shape) : null;
        if (!needParams || gamma == null) {
            return new Tensor[] {gx, null, null};
        }
        float[] gg = new float[n];
        float[] gb = new float[n];
        for (int k = 0; k < n; k++) {
            double sg = 0;
            double sb = 0;
            for (int c = 0; c < chunks; c++) {
                sg += dGamma[c][k];
                sb += dBeta[c][k];
            }
            gg[k] = (float) sg;
            gb[k] = (float) sb;
        }
        return new Tensor[] {gx, Conversions.wrap(gg, DType.FP32, paramShape),
                Conversions.wrap(gb, DType.FP32, paramShape)};
    }

    /** Rows per parallel task of the forward: about {@link Grain#ELEMENTWISE} elements. */
    private static int grain(int n) {
        return Math.max(1, Grain.ELEMENTWISE / n);
    }

    /**
     * Rows per task and per partial sum of the parameter gradients in the backward: about
     * {@link Grain#ELEMENTWISE} elements, fixed by n, so the summation order is too.
     */
    static int chunkRows(int n) {
        return Math.max(1, Grain.ELEMENTWISE / n);
    }

    private static void param(String name, Tensor p, int n) {
        if (p.dtype != DType.FP32 || p.numel != n) {
            throw new IllegalArgumentException("layerNorm: '" + name + "' must be FP32 with " + n + " elements, got "
                    + p.dtype + " " + Arrays.toString(p.shape));
        }
    }
}
