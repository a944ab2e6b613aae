package dev.mpt.core;

/**
 * A one-layer LSTM in double, time-major, forward and backward through time, with error bounds
 * for an implementation that computes it in a lower precision. The loss is
 * {@code L = sum(wOut * output) + sum(wC * c_{T-1})}.
 *
 * <p>Forward bound (first order, per element, propagated step by step): a dot product of length
 * n accumulated in FP32 errs by at most {@code gamma_n sum|a_p b_p|}; each rounding to the compute
 * dtype by {@code u |v|} (u of that dtype, plus the subnormal floor); sigmoid and tanh are
 * 1/4- and 1-Lipschitz and their FP32 evaluation adds {@link #ACT} {@code |a|} (plus 2^-125 for a
 * sigmoid below the normal range: {@code FloatMath}'s bounds; a double evaluation rounded once to
 * FP32 adds only {@code u32 |a|}, so the bound covers both); the cell and hidden updates
 * propagate their inputs' errors with the partial derivatives' magnitudes.
 *
 * <p>Backward bound: forward and backward together are a straight-line program of sums, products
 * and bounded-derivative functions, so the error of each gradient is at most
 * {@code (N32 u32 + N16 u) M}, where M is the same gradient computed on absolute values
 * ({@link #mag}), N32 the longest chain of FP32 roundings (the dot products of both passes, the
 * gate math, the sums over the sequence) and N16 the roundings to the compute dtype on a chain
 * (dh and dPre per step, the leaf gradient).
 */
final class LstmReference {

    /**
     * Relative error of an FP32 sigmoid or tanh: {@code FloatMath}'s bounds, {@code d + 5u} and
     * {@code max(d_e + 6u, d_t + 3u)} with both polynomial errors d below 2^-26 (FloatMathTest).
     */
    static final double ACT = 0x1p-26 + 6 * Ref.U32;
    /** Absolute error of an FP32 sigmoid below the normal range (FloatMath's clamp at -87). */
    static final double ACT_FLOOR = 0x1p-125;

    final int steps;
    final int batch;
    final int in;
    final int hidden;
    final double[] out;
    final double[] outErr;
    final double[] cLast;
    final double[] cLastErr;
    /** Gradients, in the order x, h0, c0, wIh, wHh, bias. */
    final double[][] grads = new double[6][];
    /** Gradients of the absolute-value program, same order. */
    final double[][] mag = new double[6][];

    /**
     * Runs it. Arrays are row-major: {@code x [T,B,in]}, {@code h0, c0 [B,H]}, {@code wi [4H,in]},
     * {@code wh [4H,H]}, {@code bi, bh [4H]}, {@code wOut [T,B,H]}, {@code wC [B,H]}; {@code u} is the
     * unit roundoff of the compute dtype and {@code floor} its absolute rounding error near zero.
     */
    LstmReference(int steps, int batch, int in, int hidden, double[] x, double[] h0, double[] c0, double[] wi,
                  double[] wh, double[] bi, double[] bh, double[] wOut, double[] wC, double u, double floor) {
        this.steps = steps;
        this.batch = batch;
        this.in = in;
        this.hidden = hidden;
        int h = hidden;
        int g = 4 * h;
        double u32 = Ref.U32;
        double[] act = new double[steps * batch * g];
        double[] cs = new double[(steps + 1) * batch * h];
        double[] hs = new double[(steps + 1) * batch * h];
        double[] tcs = new double[steps * batch * h];
        System.arraycopy(h0, 0, hs, 0, batch * h);
        System.arraycopy(c0, 0, cs, 0, batch * h);
        double[] eH = new double[batch * h];
        double[] eC = new double[batch * h];
        out = new double[steps * batch * h];
        outErr = new double[out.length];
        for (int t = 0; t < steps; t++) {
            double[] eHn = new double[batch * h];
            double[] eCn = new double[batch * h];
            for (int b = 0; b < batch; b++) {
                double[] a = new double[g];
                double[] ea = new double[g];
                for (int r = 0; r < g; r++) {
                    double xw = 0;
                    double axw = 0;
                    for (int p = 0; p < in; p++) {
                        xw += x[(t * batch + b) * in + p] * wi[r * in + p];
                        axw += Math.abs(x[(t * batch + b) * in + p] * wi[r * in + p]);
                    }
                    double hw = 0;
                    double ahw = 0;
                    double prop = 0;
                    for (int p = 0; p < h; p++) {
                        double hv = hs[(t * batch + b) * h + p];
                        hw += hv * wh[r * h + p];
                        ahw += Math.abs(hv * wh[r * h + p]);
                        prop += Math.abs(wh[r * h + p]) * eH[b * h + p];
                    }
                    double pre = xw + bi[r] + hw + bh[r];
                    double ePre = gamma(in) * axw + gamma(h) * ahw + prop
                            + u * (Math.abs(xw) + Math.abs(xw + bi[r]) + Math.abs(hw) + Math.abs(hw + bh[r])
                            + Math.abs(pre)) + 5 * floor;
                    boolean tanh = r >= 2 * h && r < 3 * h;
                    a[r] = tanh ? Math.tanh(pre) : 1 / (1 + Math.exp(-pre));
                    ea[r] = (tanh ? 1 : 0.25) * ePre + ACT * Math.abs(a[r]) + ACT_FLOOR;
                    act[(t * batch + b) * g + r] = a[r];
                }
                for (int j = 0; j < h; j++) {
                    double i = a[j];
                    double f = a[h + j];
                    double gg = a[2 * h + j];
                    double o = a[3 * h + j];
                    double cp = cs[(t * batch + b) * h + j];
                    double c = f * cp + i * gg;
                    double ec = Math.abs(f) * eC[b * h + j] + Math.abs(cp) * ea[h + j] + Math.abs(i) * ea[2 * h + j]
                            + Math.abs(gg) * ea[j] + u32 * (Math.abs(f * cp) + Math.abs(i * gg) + Math.abs(c));
                    double tc = Math.tanh(c);
                    double etc = ec + ACT * Math.abs(tc);
                    double hv = o * tc;
                    double eh = Math.abs(o) * etc + Math.abs(tc) * ea[3 * h + j] + u32 * Math.abs(hv)
                            + u * Math.abs(hv) + floor;
                    int k = ((t + 1) * batch + b) * h + j;
                    cs[k] = c;
                    hs[k] = hv;
                    tcs[(t * batch + b) * h + j] = tc;
                    out[(t * batch + b) * h + j] = hv;
                    outErr[(t * batch + b) * h + j] = eh;
                    eHn[b * h + j] = eh;
                    eCn[b * h + j] = ec;
                }
            }
            eH = eHn;
            eC = eCn;
        }
        cLast = new double[batch * h];
        System.arraycopy(cs, steps * batch * h, cLast, 0, batch * h);
        cLastErr = eC;
        backward(false, x, wi, wh, act, cs, hs, tcs, wOut, wC, grads);
        backward(true, x, wi, wh, act, cs, hs, tcs, wOut, wC, mag);
    }

    /** {@code gamma_n = n u32 / (1 - n u32)}. */
    static double gamma(int n) {
        return n * Ref.U32 / (1 - n * Ref.U32);
    }

    /** Backward through time; with {@code abs} every value and factor is taken by magnitude. */
    private void backward(boolean abs, double[] x, double[] wi, double[] wh, double[] act, double[] cs, double[] hs,
                          double[] tcs, double[] wOut, double[] wC, double[][] res) {
        int h = hidden;
        int g = 4 * h;
        double[] dx = new double[steps * batch * in];
        double[] dWi = new double[g * in];
        double[] dWh = new double[g * h];
        double[] db = new double[g];
        double[] dhRec = new double[batch * h];
        double[] dc = new double[batch * h];
        for (int k = 0; k < dc.length; k++) {
            dc[k] = m(abs, wC[k]);
        }
        for (int t = steps - 1; t >= 0; t--) {
            double[] dP = new double[batch * g];
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < h; j++) {
                    int row = (t * batch + b) * g;
                    double i = m(abs, act[row + j]);
                    double f = m(abs, act[row + h + j]);
                    double gg = m(abs, act[row + 2 * h + j]);
                    double o = m(abs, act[row + 3 * h + j]);
                    double tc = m(abs, tcs[(t * batch + b) * h + j]);
                    double cp = m(abs, cs[(t * batch + b) * h + j]);
                    double dh = m(abs, wOut[(t * batch + b) * h + j]) + dhRec[b * h + j];
                    double dcv = dc[b * h + j] + dh * o * (1 - tc * tc);
                    dP[b * g + j] = dcv * gg * i * (1 - i);
                    dP[b * g + h + j] = dcv * cp * f * (1 - f);
                    dP[b * g + 2 * h + j] = dcv * i * (1 - gg * gg);
                    dP[b * g + 3 * h + j] = dh * tc * o * (1 - o);
                    dc[b * h + j] = dcv * f;
                }
            }
            dhRec = new double[batch * h];
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < g; r++) {
                    double d = dP[b * g + r];
                    db[r] += d;
                    for (int p = 0; p < h; p++) {
                        dhRec[b * h + p] += d * m(abs, wh[r * h + p]);
                        dWh[r * h + p] += d * m(abs, hs[(t * batch + b) * h + p]);
                    }
                    for (int p = 0; p < in; p++) {
                        dx[(t * batch + b) * in + p] += d * m(abs, wi[r * in + p]);
                        dWi[r * in + p] += d * m(abs, x[(t * batch + b) * in + p]);
                    }
                }
            }
        }
        res[0] = dx;
        res[1] = dhRec;
        res[2] = dc;
        res[3] = dWi;
        res[4] = dWh;
        res[5] = db;
    }

    private static double m(boolean abs, double v) {
        return abs ? Math.abs(v) : v;
    }
}
