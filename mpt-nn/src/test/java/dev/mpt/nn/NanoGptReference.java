package dev.mpt.nn;

import java.util.Map;

/**
 * nanoGPT's forward (eval mode, tanh GELU) in double from weights under nanoGPT's names, with a
 * running bound on the error of any FP32 evaluation of it: a test's specification of {@link Gpt}
 * and of PyTorch's FP32 forward alike.
 *
 * <p>For each activation it carries the exact value (double; its own rounding, about 2^-53
 * relative, is far below what follows) and {@code e}, a first-order bound on |FP32 result -
 * exact| for an implementation that rounds each FP32 operation to nearest (u = 2^-24) in any
 * order of summation, with or without fused multiply-adds, and with exp, tanh and rsqrt within 4
 * ulps. Per op, with gamma_n = n u / (1 - n u):
 * <ul>
 *   <li>embedding sum: u |x|;</li>
 *   <li>Linear, K inputs: sum_k |W_ok| e_k + gamma_{K+1} (sum_k |W_ok x_k| + |b_o|) (propagated +
 *       the dot's rounding in any order);</li>
 *   <li>LayerNorm over C with n = (x - mean) r, r = 1/sqrt(var + eps): propagated
 *       |g_i| r (e_i + mean(e) + |n_i| mean(|n| e)) (the Jacobian of the mean and of r); rounded:
 *       |g_i| (r (dMean + 3u (|x_i| + |mean|)) + |n_i| relR) with dMean = gamma_C mean|x| + u |mean|
 *       and relR = gamma_{C+4} / 2 + 4u (the variance's sum, eps, square root, reciprocal), the
 *       {@code 3u (|x_i| + |mean|)} covering PyTorch's {@code x r - mean r} form; then
 *       2u (|n_i g_i| + |beta_i|) + u |y_i| for the affine part;</li>
 *   <li>scores s = (q . k) / sqrt(D): (sum |k| e_q + |q| e_k + gamma_D sum |q k|) / sqrt(D) + 2u |s|;
 *       softmax p (masked keys exactly 0): propagated p_j (e_j + sum_k p_k e_k); rounded with
 *       relative error u |s_j - max| + gamma_{T+5} (the shift feeding exp, exp, the sum, the
 *       division); P V: sum_j (|dp_j| |v_j| + p_j e_vj) + gamma_{T+1} sum_j p_j |v_j|;</li>
 *   <li>GELU (tanh form) y = x (1 + tanh z) / 2, z = c (x + a x^3): propagated 1.13 e (the
 *       largest slope of this GELU is 1.129); rounded |x| (gamma_6 |z| + 6u) / 2 + 2u |y|;</li>
 *   <li>residual sum: e_1 + e_2 + u |sum|.</li>
 * </ul>
 * {@link #bound()} doubles the final first-order bound, which covers the second-order terms
 * (products of two bounds, each of relative size about 1e-6 here) and the reference's own rounding
 * many times over.
 */
final class NanoGptReference {

    private static final double U = 0x1p-24;
    private static final double EPS = 1e-5;
    private static final double GELU_C = Math.sqrt(2 / Math.PI);
    private static final double GELU_A = 0.044715;
    private static final double GELU_MAX_SLOPE = 1.13;

    private final Map<String, float[]> w;
    private final int vocab;
    private final int width;
    private final int layers;
    private final int heads;
    private final double[] logits;
    private final double[] bound;

    /**
     * Runs the forward on {@code ids [B][T]}.
     *
     * @param weights nanoGPT's names without the {@code transformer.} prefix ({@code wte.weight},
     *                {@code h.0.attn.c_attn.weight}, ...), row-major as PyTorch stores them
     */
    NanoGptReference(Map<String, float[]> weights, int vocab, int width, int layers, int heads, int[][] ids) {
        this.w = weights;
        this.vocab = vocab;
        this.width = width;
        this.layers = layers;
        this.heads = heads;
        int b = ids.length;
        int t = ids[0].length;
        logits = new double[b * t * vocab];
        bound = new double[b * t * vocab];
        for (int s = 0; s < b; s++) {
            forward(ids[s], s * t * vocab);
        }
    }

    /** Logits {@code [B, T, V]}, flat. */
    double[] logits() {
        return logits;
    }

    /** Twice the first-order bound on |FP32 logit - exact logit|, per logit (see the class doc). */
    double[] bound() {
        return bound;
    }

    private static double gamma(int n) {
        return n * U / (1 - n * U);
    }

    private void forward(int[] ids, int outOffset) {
        int t = ids.length;
        double[][] x = new double[t][width];
        double[][] e = new double[t][width];
        float[] wte = w.get("wte.weight");
        float[] wpe = w.get("wpe.weight");
        for (int i = 0; i < t; i++) {
            for (int c = 0; c < width; c++) {
                x[i][c] = (double) wte[ids[i] * width + c] + wpe[i * width + c];
                e[i][c] = U * Math.abs(x[i][c]);
            }
        }
        for (int l = 0; l < layers; l++) {
            String p = "h." + l + ".";
            double[][][] h = layerNorm(x, e, p + "ln_1");
            double[][][] qkv = linear(h[0], h[1], p + "attn.c_attn", true);
            double[][][] a = attention(qkv[0], qkv[1]);
            double[][][] o = linear(a[0], a[1], p + "attn.c_proj", true);
            add(x, e, o);
            double[][][] h2 = layerNorm(x, e, p + "ln_2");
            double[][][] f = linear(h2[0], h2[1], p + "mlp.c_fc", true);
            gelu(f);
            double[][][] m = linear(f[0], f[1], p + "mlp.c_proj", true);
            add(x, e, m);
        }
        double[][][] hf = layerNorm(x, e, "ln_f");
        double[][][] out = linear(hf[0], hf[1], "wte", false);   // the read-out tied to wte
        for (int i = 0; i < t; i++) {
            for (int v = 0; v < vocab; v++) {
                logits[outOffset + i * vocab + v] = out[0][i][v];
                bound[outOffset + i * vocab + v] = 2 * out[1][i][v];
            }
        }
    }

    private static void add(double[][] x, double[][] e, double[][][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int c = 0; c < x[i].length; c++) {
                x[i][c] += y[0][i][c];
                e[i][c] += y[1][i][c] + U * Math.abs(x[i][c]);
            }
        }
    }

    private double[][][] layerNorm(double[][] x, double[][] e, String name) {
        float[] g = w.get(name + ".weight");
        float[] beta = w.get(name + ".bias");
        int t = x.length;
        int n = width;
        double[][] y = new double[t][n];
        double[][] ey = new double[t][n];
        for (int i = 0; i < t; i++) {
            double mean = 0;
            double absMean = 0;
            double eMean = 0;
            for (int c = 0; c < n; c++) {
                mean += x[i][c];
                absMean += Math.abs(x[i][c]);
                eMean += e[i][c];
            }
            mean /= n;
            absMean /= n;
            eMean /= n;
            double var = 0;
            for (int c = 0; c < n; c++) {
                var += (x[i][c] - mean) * (x[i][c] - mean);
            }
            var /= n;
            double r = 1 / Math.sqrt(var + EPS);
            double nE = 0;
            for (int c = 0; c < n; c++) {
                nE += Math.abs((x[i][c] - mean) * r) * e[i][c];
            }
            nE /= n;
            double dMean = gamma(n) * absMean + U * Math.abs(mean);
            double relR = gamma(n + 4) / 2 + 4 * U;
            for (int c = 0; c < n; c++) {
                double nc = (x[i][c] - mean) * r;
                y[i][c] = nc * g[c] + beta[c];
                double propagated = Math.abs(g[c]) * r * (e[i][c] + eMean + Math.abs(nc) * nE);
                double rounded = Math.abs(g[c]) * (r * (dMean + 3 * U * (Math.abs(x[i][c]) + Math.abs(mean)))
                        + Math.abs(nc) * relR) + 2 * U * (Math.abs(nc * g[c]) + Math.abs(beta[c])) + U * Math.abs(y[i][c]);
                ey[i][c] = propagated + rounded;
            }
        }
        return new double[][][] {y, ey};
    }

    private double[][][] linear(double[][] x, double[][] e, String name, boolean hasBias) {
        float[] wt = w.get(name + ".weight");
        float[] b = hasBias ? w.get(name + ".bias") : null;
        int in = x[0].length;
        int out = wt.length / in;
        double[][] y = new double[x.length][out];
        double[][] ey = new double[x.length][out];
        double g = gamma(in + 1);
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                double abs = b == null ? 0 : Math.abs(b[o]);
                double prop = 0;
                for (int k = 0; k < in; k++) {
                    double wk = wt[o * in + k];
                    s += wk * x[i][k];
                    abs += Math.abs(wk * x[i][k]);
                    prop += Math.abs(wk) * e[i][k];
                }
                y[i][o] = s;
                ey[i][o] = prop + g * abs;
            }
        }
        return new double[][][] {y, ey};
    }

    /** Causal multi-head attention over the fused {@code [q k v]} rows (nanoGPT's head split). */
    private double[][][] attention(double[][] qkv, double[][] e) {
        int t = qkv.length;
        int d = width / heads;
        double scale = 1 / Math.sqrt(d);
        double[][] y = new double[t][width];
        double[][] ey = new double[t][width];
        for (int h = 0; h < heads; h++) {
            int qo = h * d;
            int ko = width + h * d;
            int vo = 2 * width + h * d;
            for (int i = 0; i < t; i++) {
                double[] s = new double[i + 1];
                double[] es = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double dot = 0;
                    double abs = 0;
                    double prop = 0;
                    for (int c = 0; c < d; c++) {
                        double q = qkv[i][qo + c];
                        double k = qkv[j][ko + c];
                        dot += q * k;
                        abs += Math.abs(q * k);
                        prop += Math.abs(k) * e[i][qo + c] + Math.abs(q) * e[j][ko + c];
                    }
                    s[j] = dot * scale;
                    es[j] = (prop + gamma(d) * abs) * scale + 2 * U * Math.abs(s[j]);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                double[] p = new double[i + 1];
                for (int j = 0; j <= i; j++) {
                    p[j] = Math.exp(s[j] - max);
                    sum += p[j];
                }
                double pe = 0;
                for (int j = 0; j <= i; j++) {
                    p[j] /= sum;
                    pe += p[j] * es[j];
                }
                for (int c = 0; c < d; c++) {
                    double acc = 0;
                    double abs = 0;
                    double err = 0;
                    for (int j = 0; j <= i; j++) {
                        double v = qkv[j][vo + c];
                        double dp = p[j] * (es[j] + pe) + p[j] * (U * Math.abs(s[j] - max) + gamma(i + 1 + 5));
                        acc += p[j] * v;
                        abs += p[j] * Math.abs(v);
                        err += dp * Math.abs(v) + p[j] * e[j][vo + c];
                    }
                    y[i][qo + c] = acc;
                    ey[i][qo + c] = err + gamma(i + 2) * abs;
                }
            }
        }
        return new double[][][] {y, ey};
    }

    private static void gelu(double[][][] f) {
        double[][] x = f[0];
        double[][] e = f[1];
        for (int i = 0; i < x.length; i++) {
            for (int c = 0; c < x[i].length; c++) {
                double v = x[i][c];
                double z = GELU_C * (v + GELU_A * v * v * v);
                double y = 0.5 * v * (1 + Math.tanh(z));
                e[i][c] = GELU_MAX_SLOPE * e[i][c] + Math.abs(v) * (gamma(6) * Math.abs(z) + 6 * U) / 2 + 2 * U * Math.abs(y);
                x[i][c] = y;
            }
        }
    }
}
