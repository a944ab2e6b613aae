package dev.mpt.core;

import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reductions (sum, mean, variance, max, argmax) and softmax/log-softmax, with their gradient
 * rules. The input is read as FP32 in a {@code [outer, R, inner]} layout where R spans the
 * reduced dims (non-adjacent reduced dims are first permuted to the end); sums run in double in a
 * fixed order, so results do not depend on the number of threads.
 */
final class Reduce {

    private Reduce() {
    }

    /** The reduction layout of a tensor over a set of dims. */
    private record Plan(float[] x, int outer, int r, int inner, int[] outShape, int[] keepShape,
                        int[] permutedShape, int[] inversePerm, int count) {
    }

    private static Plan plan(String op, Tensor t, int[] dims, boolean keepDim) {
        Objects.requireNonNull(t, op);
        Objects.requireNonNull(dims, () -> op + ": dims");
        int rank = t.shape.length;
        boolean[] red = new boolean[rank];
        for (int d : dims) {
            int k = Strided.dim(op, d, rank);
            if (red[k]) {
                throw new IllegalArgumentException(op + ": dim " + d + " repeated in " + Arrays.toString(dims));
            }
            red[k] = true;
        }
        int[] keepShape = t.shape.clone();
        int nOut = 0;
        for (int d = 0; d < rank; d++) {
            if (red[d]) {
                keepShape[d] = 1;
            } else {
                nOut++;
            }
        }
        int[] outShape;
        if (keepDim) {
            outShape = keepShape.clone();
        } else {
            outShape = new int[nOut];
            for (int d = 0, j = 0; d < rank; d++) {
                if (!red[d]) {
                    outShape[j++] = t.shape[d];
                }
            }
        }
        int first = -1;
        int last = -1;
        for (int d = 0; d < rank; d++) {
            if (red[d]) {
                if (first < 0) {
                    first = d;
                }
                last = d;
            }
        }
        boolean block = true;
        for (int d = first; d >= 0 && d <= last; d++) {
            block &= red[d];
        }
        int count = 1;
        for (int d = 0; d < rank; d++) {
            if (red[d]) {
                count *= t.shape[d];
            }
        }
        if (first < 0) {
            return new Plan(t.readFloats(), t.numel, 1, 1, outShape, keepShape, null, null, 1);
        }
        if (block) {
            int outer = 1;
            int inner = 1;
            for (int d = 0; d < first; d++) {
                outer *= t.shape[d];
            }
            for (int d = last + 1; d < rank; d++) {
                inner *= t.shape[d];
            }
            return new Plan(t.readFloats(), outer, count, inner, outShape, keepShape, null, null, count);
        }
        int[] perm = new int[rank];
        int j = 0;
        for (int d = 0; d < rank; d++) {
            if (!red[d]) {
                perm[j++] = d;
            }
        }
        for (int d = 0; d < rank; d++) {
            if (red[d]) {
                perm[j++] = d;
            }
        }
        int[] inverse = new int[rank];
        int[] pshape = new int[rank];
        for (int i = 0; i < rank; i++) {
            inverse[perm[i]] = i;
            pshape[i] = t.shape[perm[i]];
        }
        Tensor p = t.detach().permute(perm);
        return new Plan(p.readFloats(), t.numel / Math.max(count, 1), count, 1, outShape, keepShape, pshape, inverse,
                count);
    }

    /** Sum (or mean) over {@code dims}, FP32 output. Gradient: broadcast back (divided by n for mean). */
    static Tensor sum(Tensor t, int[] dims, boolean keepDim, boolean mean) {
        String op = mean ? "mean" : "sum";
        Plan p = plan(op, t, dims, keepDim);
        double[] sums = sums(p);
        float[] out = new float[sums.length];
        double scale = mean ? 1.0 / p.count : 1.0;
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (sums[i] * scale);
        }
        Tensor result = Conversions.wrap(out, DType.FP32, p.outShape);
        int[] inShape = t.shape;
        int[] keep = p.keepShape;
        int count = p.count;
        return Autograd.record(result, op, g -> {
            Tensor gs = mean ? g.div((float) count) : g;
            return new Tensor[] {gs.reshape(keep).expand(inShape)};
        }, t);
    }

    /** Per-output sums in double over the plan's R axis. */
    private static double[] sums(Plan p) {
        int outer = p.outer;
        int r = p.r;
        int inner = p.inner;
        float[] x = p.x;
        double[] s = new double[outer * inner];
        Parallel.RangeBody body = (from, to) -> {
            double[] acc = inner > 1 ? new double[inner] : null;
            for (int o = from; o < to; o++) {
                int base = o * r * inner;
                if (inner == 1) {
                    s[o] = sumRun(x, base, r);
                } else {
                    Arrays.fill(acc, 0.0);
                    for (int k = 0; k < r; k++) {
                        int row = base + k * inner;
                        for (int i = 0; i < inner; i++) {
                            acc[i] += x[row + i];
                        }
                    }
                    System.arraycopy(acc, 0, s, o * inner, inner);
                }
            }
        };
        runOuter(outer, (long) r * inner, body);
        return s;
    }

    /**
     * {@code x[from] + ... + x[from + n - 1]} in double, in a fixed order: four interleaved
     * accumulators (element k goes to {@code k % 4}), combined as {@code (a0 + a1) + (a2 + a3)}, then
     * the tail. One accumulator is bound by the latency of its additions (4 cycles each); four keep
     * the adder busy (TensorOpsBenchmark.sum, [256, 1024]). Every term and partial sum is a double,
     * so the error stays far below the final rounding to FP32.
     */
    static double sumRun(float[] x, int from, int n) {
        double a0 = 0;
        double a1 = 0;
        double a2 = 0;
        double a3 = 0;
        int k = 0;
        for (; k + 3 < n; k += 4) {
            a0 += x[from + k];
            a1 += x[from + k + 1];
            a2 += x[from + k + 2];
            a3 += x[from + k + 3];
        }
        double s = (a0 + a1) + (a2 + a3);
        for (; k < n; k++) {
            s += x[from + k];
        }
        return s;
    }

    private static void runOuter(int outer, long perOuter, Parallel.RangeBody body) {
        if ((long) outer * perOuter < 2L * Grain.ELEMENTWISE || outer < 2) {
            body.run(0, outer);
        } else {
            int grain = (int) Math.max(1, Grain.ELEMENTWISE / Math.max(1, perOuter));
            Parallel.forRange(outer, grain, body);
        }
    }

    /**
     * Reduces a broadcast gradient {@code g} (FP32) to {@code shape} by summing over the leading
     * dims and the dims where {@code shape} has size 1. Returns {@code g} when the shapes match.
     */
    static Tensor sumTo(Tensor g, int[] shape) {
        if (Arrays.equals(g.shape, shape)) {
            return g;
        }
        int lead = g.shape.length - shape.length;
        int[] dims = new int[g.shape.length];
        int n = 0;
        for (int d = 0; d < g.shape.length; d++) {
            if (d < lead || (shape[d - lead] == 1 && g.shape[d] != 1)) {
                dims[n++] = d;
            }
        }
        Tensor s = sum(g, Arrays.copyOf(dims, n), true, false);
        return s.reshape(shape);
    }

    /** Variance over {@code dims}, FP32 output, two passes in double. */
    static Tensor variance(Tensor t, int[] dims, boolean unbiased, boolean keepDim) {
        Plan p = plan("variance", t, dims, keepDim);
        int denom = unbiased ? p.count - 1 : p.count;
        if (denom <= 0) {
            throw new IllegalArgumentException("variance: " + p.count + " element(s) per group is too few"
                    + (unbiased ? " for the unbiased estimate" : "") + " (shape " + Arrays.toString(t.shape) + ")");
        }
        double[] mean = sums(p);
        for (int i = 0; i < mean.length; i++) {
            mean[i] /= p.count;
        }
        int r = p.r;
        int inner = p.inner;
        float[] x = p.x;
        double[] ss = new double[mean.length];
        Parallel.RangeBody body = (from, to) -> {
            for (int o = from; o < to; o++) {
                for (int k = 0; k < r; k++) {
                    int row = (o * r + k) * inner;
                    for (int i = 0; i < inner; i++) {
                        double dv = x[row + i] - mean[o * inner + i];
                        ss[o * inner + i] += dv * dv;
                    }
                }
            }
        };
        runOuter(p.outer, (long) r * inner, body);
        float[] out = new float[ss.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (ss[i] / denom);
        }
        Tensor result = Conversions.wrap(out, DType.FP32, p.outShape);
        int[] keep = p.keepShape;
        int[] red = dims.clone();
        return Autograd.record(result, "variance", g -> {
            Tensor xf = Conversions.f32(t);
            Tensor centered = xf.sub(xf.mean(red, true));
            return new Tensor[] {centered.mul(g.reshape(keep)).mul(2f / denom)};
        }, t);
    }

    /** Maximum over {@code dims}, input dtype. Gradient: to the first maximal element. */
    static Tensor max(Tensor t, int[] dims, boolean keepDim) {
        Plan p = plan("max", t, dims, keepDim);
        if (p.count == 0) {
            throw new IllegalArgumentException("max: reducing over an empty dim (shape " + Arrays.toString(t.shape) + ")");
        }
        int[] arg = new int[p.outer * p.inner];
        float[] out = new float[arg.length];
        argmaxInto(p, arg, out);
        Tensor result = Conversions.wrap(out, t.dtype, p.outShape);
        return Autograd.record(result, "max", g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[p.outer * p.r * p.inner];
            for (int o = 0; o < p.outer; o++) {
                for (int i = 0; i < p.inner; i++) {
                    int j = o * p.inner + i;
                    gx[(o * p.r + arg[j]) * p.inner + i] = gv[j];
                }
            }
            if (p.permutedShape == null) {
                return new Tensor[] {Conversions.wrap(gx, DType.FP32, t.shape)};
            }
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, p.permutedShape).permute(p.inversePerm).contiguous()};
        }, t);
    }

    /** Index of the first maximum along {@code dim} as FP32 (NaN counts as the largest). */
    static Tensor argmax(Tensor t, int dim, boolean keepDim) {
        Plan p = plan("argmax", t, new int[] {dim}, keepDim);
        if (p.count == 0) {
            throw new IllegalArgumentException("argmax: dim " + dim + " is empty (shape " + Arrays.toString(t.shape) + ")");
        }
        int[] arg = new int[p.outer * p.inner];
        argmaxInto(p, arg, new float[arg.length]);
        float[] out = new float[arg.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = arg[i];
        }
        return Conversions.wrap(out, DType.FP32, p.outShape);
    }

    private static void argmaxInto(Plan p, int[] arg, float[] max) {
        float[] x = p.x;
        int r = p.r;
        int inner = p.inner;
        for (int o = 0; o < p.outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * r * inner + i;
                int best = 0;
                float m = x[base];
                for (int k = 1; k < r && !Float.isNaN(m); k++) {
                    float v = x[base + k * inner];
                    if (v > m || Float.isNaN(v)) {
                        m = v;
                        best = k;
                    }
                }
                arg[o * inner + i] = best;
                max[o * inner + i] = m;
            }
        }
    }

    /** Softmax or log-softmax along {@code dim}, FP32 output, sums in double. */
    static Tensor softmax(Tensor t, int dim, boolean log) {
        String op = log ? "logSoftmax" : "softmax";
        Plan p = plan(op, t, new int[] {dim}, true);
        float[] x = p.x;
        int r = p.r;
        int inner = p.inner;
        float[] y = new float[x.length];
        Parallel.RangeBody body = (from, to) -> {
            for (int o = from; o < to; o++) {
                for (int i = 0; i < inner; i++) {
                    int base = o * r * inner + i;
                    float m = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < r; k++) {
                        m = Math.max(m, x[base + k * inner]);
                    }
                    if (m == Float.NEGATIVE_INFINITY) {
                        m = 0f;
                    }
                    double s = 0;
                    for (int k = 0; k < r; k++) {
                        s += Math.exp((double) x[base + k * inner] - m);
                    }
                    if (log) {
                        double ls = Math.log(s) + m;
                        for (int k = 0; k < r; k++) {
                            y[base + k * inner] = (float) (x[base + k * inner] - ls);
                        }
                    } else {
                        for (int k = 0; k < r; k++) {
                            y[base + k * inner] = (float) (Math.exp((double) x[base + k * inner] - m) / s);
                        }
                    }
                }
            }
        };
        runOuter(p.outer, (long) r * inner, body);
        Tensor result = Conversions.wrap(y, DType.FP32, t.shape);
        return Autograd.record(result, op, g -> {
            float[] gv = g.readFloats();
            float[] gx = new float[gv.length];
            for (int o = 0; o < p.outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int base = o * r * inner + i;
                    double s = 0;
                    for (int k = 0; k < r; k++) {
                        int q = base + k * inner;
                        s += log ? gv[q] : (double) gv[q] * y[q];
                    }
                    for (int k = 0; k < r; k++) {
                        int q = base + k * inner;
                        gx[q] = log ? (float) (gv[q] - Math.exp(y[q]) * s) : (float) (y[q] * (gv[q] - s));
                    }
                }
            }
            return new Tensor[] {Conversions.wrap(gx, DType.FP32, t.shape)};
        }, t);
    }
}
