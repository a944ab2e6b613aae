package dev.mpt.core;

/**
 * Scaled dot-product attention in double on the op's (exactly widened) inputs, forward and backward,
 * with element-wise error bounds derived from where {@link AttentionBlocks} rounds. Layout row-major
 * {@code [B, H, T, D]}; {@code blocks} supplies the masks, the scale and the dropout factors.
 *
 * <p>Bounds, first order (u: the dtype's unit roundoff, u32 = 2^-24, n_i visible keys of row i,
 * nb key blocks, a_ij = scale sum |q||k|, r_i the range of the row's scores):
 * <pre>
 * score      e_s   = (D + 1) u32 a_ij                          D-term FP32 dot, the scale product
 * weight     E_i   = 2 max_j e_s + u32 (r_i + 2) + X u32         s - m rounded, exp (see below)
 * output     |dO|  <= (E_i + u + u32 (n_i + nb + 2)) sum_j zP|v| + (E_i + u + u32 (n_i + nb + 2))|o|
 *                     + floor sum_j |v|                          l sums FP32 p, P V sees round(z p)
 * lse        e_l   = E_i + u32 (n_i + nb + 1) + u32 (|log l| + |lse|)
 * P again    e_p   = e_s + e_l + u32 (|s - lse| + 2) + X u32
 * D_i               from the op's rounded output: sum_e |g| bound(o) + Dv u32 sum |g||o|
 * dP         z Dv u32 sum |g||v| + u32 |dP|
 * dS         scale (e_p P|dP - D| + P (err dP + err D) + 3 u32 P|dP - D|) + u |dS| + floor
 * dQ, dK     sum err(dS) |k| + n u32 sum |dS||k|,  then the leaf's rounding u |g| + floor
 * dV         sum (e_p + u + u32) zP |g| + floor sum |g| + n u32 sum zP|g|, then u |g| + floor
 * </pre>
 * The weights' exp is FloatMath.exp, relative error d_e + 3 u32 with d_e < 2^-26 (FloatMathTest):
 * X = 2.25 beyond the one rounding a correctly rounded exp would have; it clamps its argument at
 * -87, so a weight below e^-87 comes out as e^-87: an extra absolute error of at most
 * C = 2^-125 per normalized weight (l >= 1, the row maximum contributes 1), which adds
 * C sum_j z|v| to the output, scale C |dP - D| to dS, C z|g| per term to dV.
 * The n u32 terms of the sums over keys (P V, dQ) and over query rows (dK, dV) hold for the op's
 * blocked order: a GEMM chain over one block (masked entries are exact zero products), its sum then
 * added to the running total. A term of a block with n_b visible entries is rounded at most n_b times
 * in the chain and once per later block with a visible entry (the first such addition is to an exact
 * zero); each of those blocks holds at least one of the row's n terms, so at most n times in all
 * (plus the nb rescales of the forward, as before). An FMA chain rounds no more often than mul + add.
 * Tests allow twice the bound for the neglected second-order terms.
 */
final class AttentionReference {

    final double[] out;
    final double[] outErr;
    final double[] dq;
    final double[] dqErr;
    final double[] dk;
    final double[] dkErr;
    final double[] dv;
    final double[] dvErr;

    AttentionReference(AttentionBlocks blk, double[] q, double[] k, double[] v, double[] g, double u, double floor) {
        int bs = blk.batch;
        int hs = blk.heads;
        int tq = blk.tq;
        int tk = blk.tk;
        int d = blk.d;
        int dvn = blk.dv;
        double sc = blk.scale;
        double u32 = 0x1p-24;
        double expExtra = 2.25;
        double clamp = 0x1p-125;
        out = new double[bs * hs * tq * dvn];
        outErr = new double[out.length];
        dq = new double[bs * hs * tq * d];
        dqErr = new double[dq.length];
        dk = new double[bs * hs * tk * d];
        dkErr = new double[dk.length];
        dv = new double[bs * hs * tk * dvn];
        dvErr = new double[dv.length];
        for (int b = 0; b < bs; b++) {
            for (int h = 0; h < hs; h++) {
                int bh = b * hs + h;
                double[][] s = new double[tq][tk];
                double[][] es = new double[tq][tk];
                double[][] p = new double[tq][tk];
                double[][] z = new double[tq][tk];
                double[][] ds = new double[tq][tk];
                double[][] dsErr = new double[tq][tk];
                double[][] ep = new double[tq][tk];
                boolean[][] vis = new boolean[tq][tk];
                int[] n = new int[tq];
                for (int i = 0; i < tq; i++) {
                    double m = Double.NEGATIVE_INFINITY;
                    double lo = Double.POSITIVE_INFINITY;
                    double maxEs = 0;
                    int jEnd = 0;
                    for (int j = 0; j < tk; j++) {
                        vis[i][j] = blk.visible(b, i, j);
                        if (!vis[i][j]) {
                            continue;
                        }
                        n[i]++;
                        jEnd = j + 1;
                        double dot = 0;
                        double abs = 0;
                        for (int e = 0; e < d; e++) {
                            double x = q[(bh * tq + i) * d + e];
                            double y = k[(bh * tk + j) * d + e];
                            dot += x * y;
                            abs += Math.abs(x * y);
                        }
                        s[i][j] = sc * dot;
                        es[i][j] = (d + 1) * u32 * sc * abs;
                        maxEs = Math.max(maxEs, es[i][j]);
                        m = Math.max(m, s[i][j]);
                        lo = Math.min(lo, s[i][j]);
                        z[i][j] = blk.keep(b, h, i, j);
                    }
                    if (n[i] == 0) {
                        continue;
                    }
                    double l = 0;
                    for (int j = 0; j < tk; j++) {
                        if (vis[i][j]) {
                            l += Math.exp(s[i][j] - m);
                        }
                    }
                    double lse = m + Math.log(l);
                    int nb = (jEnd + AttentionBlocks.BLOCK_K - 1) / AttentionBlocks.BLOCK_K;
                    double bigE = 2 * maxEs + u32 * (m - lo + 2 + expExtra);
                    double el = bigE + u32 * (n[i] + nb + 1) + u32 * (Math.abs(Math.log(l)) + Math.abs(lse));
                    double rel = bigE + u + u32 * (n[i] + nb + 2);
                    for (int j = 0; j < tk; j++) {
                        if (vis[i][j]) {
                            p[i][j] = Math.exp(s[i][j] - m) / l;
                            ep[i][j] = es[i][j] + el + u32 * (Math.abs(s[i][j] - lse) + 2 + expExtra);
                        }
                    }
                    for (int e = 0; e < dvn; e++) {
                        double o = 0;
                        double absPv = 0;
                        double absV = 0;
                        double absZv = 0;
                        for (int j = 0; j < tk; j++) {
                            if (vis[i][j]) {
                                double vv = v[(bh * tk + j) * dvn + e];
                                o += z[i][j] * p[i][j] * vv;
                                absPv += z[i][j] * p[i][j] * Math.abs(vv);
                                absV += Math.abs(vv);
                                absZv += z[i][j] * Math.abs(vv);
                            }
                        }
                        int oi = (bh * tq + i) * dvn + e;
                        out[oi] = o;
                        outErr[oi] = rel * absPv + rel * Math.abs(o) + floor * absV + clamp * absZv + floor;
                    }
                }
                // backward
                for (int i = 0; i < tq; i++) {
                    if (n[i] == 0) {
                        continue;
                    }
                    int row = bh * tq + i;
                    double delta = 0;
                    double deltaErr = 0;
                    double absGo = 0;
                    for (int e = 0; e < dvn; e++) {
                        double gg = g[row * dvn + e];
                        delta += gg * out[row * dvn + e];
                        deltaErr += Math.abs(gg) * outErr[row * dvn + e];
                        absGo += Math.abs(gg * out[row * dvn + e]);
                    }
                    deltaErr += dvn * u32 * absGo;
                    for (int j = 0; j < tk; j++) {
                        if (!vis[i][j]) {
                            continue;
                        }
                        double dot = 0;
                        double abs = 0;
                        for (int e = 0; e < dvn; e++) {
                            double gg = g[row * dvn + e];
                            double vv = v[(bh * tk + j) * dvn + e];
                            dot += gg * vv;
                            abs += Math.abs(gg * vv);
                        }
                        double dp = z[i][j] * dot;
                        double dpErr = z[i][j] * dvn * u32 * abs + u32 * Math.abs(dp);
                        double diff = dp - delta;
                        ds[i][j] = sc * p[i][j] * diff;
                        dsErr[i][j] = sc * (ep[i][j] * p[i][j] * Math.abs(diff) + p[i][j] * (dpErr + deltaErr)
                                + 3 * u32 * p[i][j] * Math.abs(diff) + clamp * Math.abs(diff)) + u * Math.abs(ds[i][j])
                                + floor;
                    }
                }
                for (int i = 0; i < tq; i++) {
                    for (int e = 0; e < d; e++) {
                        double acc = 0;
                        double err = 0;
                        double abs = 0;
                        for (int j = 0; j < tk; j++) {
                            if (vis[i][j]) {
                                double kk = k[(bh * tk + j) * d + e];
                                acc += ds[i][j] * kk;
                                err += dsErr[i][j] * Math.abs(kk);
                                abs += Math.abs(ds[i][j] * kk);
                            }
                        }
                        int gi = (bh * tq + i) * d + e;
                        dq[gi] = acc;
                        dqErr[gi] = err + n[i] * u32 * abs + u * Math.abs(acc) + floor;
                    }
                }
                for (int j = 0; j < tk; j++) {
                    int cnt = 0;
                    for (int i = 0; i < tq; i++) {
                        cnt += vis[i][j] ? 1 : 0;
                    }
                    for (int e = 0; e < d; e++) {
                        double acc = 0;
                        double err = 0;
                        double abs = 0;
                        for (int i = 0; i < tq; i++) {
                            if (vis[i][j]) {
                                double qq = q[(bh * tq + i) * d + e];
                                acc += ds[i][j] * qq;
                                err += dsErr[i][j] * Math.abs(qq);
                                abs += Math.abs(ds[i][j] * qq);
                            }
                        }
                        int gi = (bh * tk + j) * d + e;
                        dk[gi] = acc;
                        dkErr[gi] = err + cnt * u32 * abs + u * Math.abs(acc) + floor;
                    }
                    for (int e = 0; e < dvn; e++) {
                        double acc = 0;
                        double err = 0;
                        double abs = 0;
                        double absG = 0;
                        for (int i = 0; i < tq; i++) {
                            if (vis[i][j]) {
                                double gg = g[(bh * tq + i) * dvn + e];
                                double w = z[i][j] * p[i][j];
                                acc += w * gg;
                                err += (ep[i][j] + u + u32) * w * Math.abs(gg) + clamp * z[i][j] * Math.abs(gg);
                                abs += w * Math.abs(gg);
                                absG += Math.abs(gg);
                            }
                        }
                        int gi = (bh * tk + j) * dvn + e;
                        dv[gi] = acc;
                        dvErr[gi] = err + floor * absG + cnt * u32 * abs + u * Math.abs(acc) + floor;
                    }
                }
            }
        }
    }
}
