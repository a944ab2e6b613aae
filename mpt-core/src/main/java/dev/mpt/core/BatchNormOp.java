package dev.mpt.core;

import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.kernel.ThreadScratch;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Batch normalization over dimension 1 as one fused op with a hand-written gradient: a channel at
 * a time, a sweep for the mean, one for the variance and one for the output forward, two
 * backward, instead of the dozen broadcast ops, reductions and full-size temporaries of its
 * composition. A 16-bit channel is widened once per pass into a per-task buffer.
 *
 * <p>Numerics: elements are read in FP32 (16-bit ones widened exactly); each channel's mean and
 * biased variance are accumulated in double over all its elements (two passes, as {@link
 * Tensor#variance}) and rounded to FP32; then {@code y = ((x - mean) / sqrt(var + eps)) * gamma +
 * beta} in FP32, each operation rounded as written, and {@code y} is rounded once to the input's
 * dtype. The backward pass sums {@code g} and {@code g * xhat} per channel in double ({@code xhat}
 * recomputed from the input as in the forward pass, and kept for the input gradient), and writes the input gradient over the
 * incoming one when the walk owns it.
 */
final class BatchNormOp {

    /**
     * Per-thread buffers reused across calls (a training step normalizes several layers twice): a
     * widened channel, a run of output, and a channel of {@code xhat} for the backward pass. A task
     * uses each for one channel at a time and never calls back into batchNorm.
     */
    private static final ThreadScratch SCRATCH = new ThreadScratch(3);
    private static final int CHANNEL = 0;
    private static final int RUN = 1;
    private static final int XHAT = 2;

    private BatchNormOp() {
    }

    static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                            boolean training, double momentum, double eps) {
        Objects.requireNonNull(x, "batchNorm: input");
        if (x.shape.length < 2) {
            throw new IllegalArgumentException("batchNorm: input must have shape [N, C, ...], got "
                    + Arrays.toString(x.shape));
        }
        int channels = x.shape[1];
        checkVector("weight", weight, channels, false);
        checkVector("bias", bias, channels, false);
        checkVector("runningMean", runningMean, channels, true);
        checkVector("runningVar", runningVar, channels, true);
        if ((runningMean == null) != (runningVar == null)) {
            throw new IllegalArgumentException("batchNorm: give both runningMean and runningVar or neither");
        }
        if (!training && runningMean == null) {
            throw new IllegalArgumentException("batchNorm: evaluation mode needs runningMean and runningVar");
        }
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("batchNorm: eps must be finite and > 0, got " + eps);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("batchNorm: momentum must be in [0, 1], got " + momentum);
        }
        Tensor in = x.contiguous();
        int batch = in.shape[0];
        int inner = innerSize(in.shape);
        long perChannel = (long) batch * inner;
        if (training && perChannel < 2) {
            throw new IllegalArgumentException("batchNorm: training needs more than one value per channel, got shape "
                    + Arrays.toString(x.shape));
        }
        // copies: the backward pass must see the values this forward pass used
        float[] gamma = weight == null ? null : weight.readFloats().clone();
        float[] beta = bias == null ? null : bias.readFloats().clone();
        float epsF = (float) eps;
        float[] mean = new float[channels];
        float[] div = new float[channels];
        Layout lay = new Layout(in, batch, channels, inner);
        float[] var = new float[channels];
        if (!training) {
            float[] rm = runningMean.readFloats();
            float[] rv = runningVar.readFloats();
            for (int c = 0; c < channels; c++) {
                mean[c] = rm[c];
                div[c] = (float) Math.sqrt(rv[c] + epsF);
            }
        }
        Tensor out = lay.output();
        // one pass per channel: (training) its statistics, then its output, from one widened copy
        lay.forChannels((from, to) -> {
            float[] buf = lay.channelBuffer();
            float[] res = lay.runBuffer();
            for (int c = from; c < to; c++) {
                float[] src = lay.channel(c, buf);
                if (training) {
                    double sum = 0;
                    for (int b = 0; b < batch; b++) {
                        sum += sum(src, lay.start(b, c, buf), inner);
                    }
                    double mc = sum / perChannel;
                    double ss = 0;
                    for (int b = 0; b < batch; b++) {
                        ss += squares(src, lay.start(b, c, buf), inner, mc);
                    }
                    mean[c] = (float) mc;
                    var[c] = (float) (ss / perChannel);
                    div[c] = (float) Math.sqrt(var[c] + epsF);
                }
                float m = mean[c];
                float d = div[c];
                float g = gamma == null ? 1f : gamma[c];
                float bt = beta == null ? 0f : beta[c];
                for (int b = 0; b < batch; b++) {
                    int s = lay.start(b, c, buf);
                    float[] dst = lay.target(out, res);
                    int o = lay.targetStart(out, b, c, res);
                    for (int i = 0; i < inner; i++) {
                        float y = (src[s + i] - m) / d;
                        if (gamma != null) {
                            y *= g;
                        }
                        if (beta != null) {
                            y += bt;
                        }
                        dst[o + i] = y;
                    }
                    lay.flush(out, b, c, res);
                }
            }
        });
        if (training && runningMean != null) {
            float mom = (float) momentum;
            float keep = 1 - mom;
            float unbias = (float) perChannel / (perChannel - 1);
            float[] rm = runningMean.floats;
            float[] rv = runningVar.floats;
            int om = runningMean.offset;
            int ov = runningVar.offset;
            for (int c = 0; c < channels; c++) {
                rm[om + c] = rm[om + c] * keep + mean[c] * mom;
                rv[ov + c] = rv[ov + c] * keep + (var[c] * unbias) * mom;
            }
        }
        return Autograd.record(out, "batchNorm", Node.reusing(
                (grad, owned) -> backward(grad, owned, lay, mean, div, gamma, training, weight, bias)), in, weight, bias);
    }

    /*
     * Per channel: pass 1 computes xhat from the input as in the forward pass (kept for pass 2) and
     * sums g and g * xhat; pass 2 writes dx = (gamma / div) (g - mean(g) - xhat mean(g xhat)) element by element,
     * over g itself when the walk owns it (each element is read before it is written).
     */
    private static Tensor[] backward(Tensor grad, boolean owned, Layout lay, float[] mean, float[] div, float[] gamma,
                                     boolean training, Tensor weight, Tensor bias) {
        int channels = lay.channels;
        int batch = lay.batch;
        int inner = lay.inner;
        double count = (double) batch * inner;
        float[] gv = grad.floats;
        int go = grad.offset;
        float[] dGamma = new float[channels];
        float[] dBeta = new float[channels];
        boolean inPlace = owned && go == 0 && gv.length == lay.x.numel;
        float[] dx = !Autograd.needs(lay.x) ? null : inPlace ? gv : GradientBuffers.take(lay.x.numel);
        lay.forChannels((from, to) -> {
            float[] buf = lay.channelBuffer();
            float[] xh = SCRATCH.get(XHAT, batch * inner);
            double[] sums = new double[2];
            for (int c = from; c < to; c++) {
                float m = mean[c];
                float d = div[c];
                float[] src = lay.channel(c, buf);
                double sumG = 0;
                double sumGX = 0;
                for (int b = 0; b < batch; b++) {
                    int s = lay.start(b, c, buf);
                    int h = b * inner;
                    // xhat first, in a loop of its own: the division vectorizes there, not inside the sums
                    for (int i = 0; i < inner; i++) {
                        xh[h + i] = (src[s + i] - m) / d;
                    }
                    gradSums(gv, go + lay.base(b, c), xh, h, inner, sums);
                    sumG += sums[0];
                    sumGX += sums[1];
                }
                dGamma[c] = (float) sumGX;
                dBeta[c] = (float) sumG;
                if (dx == null) {
                    continue;
                }
                float scale = (gamma == null ? 1f : gamma[c]) / d;
                float k1 = training ? (float) (sumG / count) : 0f;
                float k2 = training ? (float) (sumGX / count) : 0f;
                for (int b = 0; b < batch; b++) {
                    int base = lay.base(b, c);
                    int gs = go + base;
                    int h = b * inner;
                    for (int i = 0; i < inner; i++) {
                        dx[base + i] = scale * (gv[gs + i] - k1 - xh[h + i] * k2);
                    }
                }
            }
        });
        int[] cShape = {channels};
        return new Tensor[] {
            dx == null ? null : Conversions.wrap(dx, DType.FP32, lay.x.shape),
            Autograd.needs(weight) ? Conversions.wrap(dGamma, DType.FP32, cShape) : null,
            Autograd.needs(bias) ? Conversions.wrap(dBeta, DType.FP32, cShape) : null,
        };
    }

    /**
     * Over one run of {@code n} elements: {@code out[0] = sum g}, {@code out[1] = sum g * xhat}, in
     * double, each as four interleaved partial sums (element {@code i} into sum {@code i mod 4}, then
     * {@code (s0 + s1) + (s2 + s3)}, as {@link #sum}): four independent add chains instead of one,
     * whose latency bounded this pass.
     */
    private static void gradSums(float[] g, int gAt, float[] xh, int xAt, int n, double[] out) {
        double a0 = 0;
        double a1 = 0;
        double a2 = 0;
        double a3 = 0;
        double b0 = 0;
        double b1 = 0;
        double b2 = 0;
        double b3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            float g0 = g[gAt + i];
            float g1 = g[gAt + i + 1];
            float g2 = g[gAt + i + 2];
            float g3 = g[gAt + i + 3];
            a0 += g0;
            a1 += g1;
            a2 += g2;
            a3 += g3;
            b0 += (double) g0 * xh[xAt + i];
            b1 += (double) g1 * xh[xAt + i + 1];
            b2 += (double) g2 * xh[xAt + i + 2];
            b3 += (double) g3 * xh[xAt + i + 3];
        }
        for (; i < n; i++) {
            float gi = g[gAt + i];
            a0 += gi;
            b0 += (double) gi * xh[xAt + i];
        }
        out[0] = (a0 + a1) + (a2 + a3);
        out[1] = (b0 + b1) + (b2 + b3);
    }

    /** Elements per (sample, channel) pair: the product of the dimensions after the channel. */
    private static int innerSize(int[] shape) {
        int inner = 1;
        for (int d = 2; d < shape.length; d++) {
            inner *= shape[d];
        }
        return inner;
    }

    private static void checkVector(String name, Tensor t, int channels, boolean state) {
        if (t == null) {
            return;
        }
        if (t.shape.length != 1 || t.shape[0] != channels) {
            throw new IllegalArgumentException("batchNorm: " + name + " must have shape [" + channels
                    + "] (the input's channels), got " + Arrays.toString(t.shape));
        }
        if (state) {
            if (t.dtype != DType.FP32 || !t.isContiguous()) {
                throw new IllegalArgumentException("batchNorm: " + name + " must be a contiguous FP32 tensor, got "
                        + t.dtype + (t.isContiguous() ? "" : " non-contiguous"));
            }
            if (t.requiresGrad) {
                throw new IllegalArgumentException("batchNorm: " + name + " is running state and must not require grad");
            }
        }
    }

    /**
     * Sum of {@code n} floats in double, four independent partial sums ({@code v[at + i]} into
     * partial {@code i mod 4}, the tail into the first, then {@code (s0 + s1) + (s2 + s3)}); also
     * the per-image runs of {@link Convolution}'s bias gradient.
     */
    static double sum(float[] v, int at, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += v[at + i];
            s1 += v[at + i + 1];
            s2 += v[at + i + 2];
            s3 += v[at + i + 3];
        }
        for (; i < n; i++) {
            s0 += v[at + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Sum of {@code (v - m)^2} over {@code n} floats in double. */
    private static double squares(float[] v, int at, int n, double m) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            double d0 = v[at + i] - m;
            double d1 = v[at + i + 1] - m;
            double d2 = v[at + i + 2] - m;
            double d3 = v[at + i + 3] - m;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; i < n; i++) {
            double d = v[at + i] - m;
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Access to the contiguous {@code [batch, channels, inner]} input a channel at a time, as
     * {@code batch} runs of {@code inner} elements: FP32 is read in place, 16-bit data widened
     * into a per-task channel buffer once per pass.
     */
    private static final class Layout {
        final Tensor x;
        final int batch;
        final int channels;
        final int inner;

        Layout(Tensor x, int batch, int channels, int inner) {
            this.x = x;
            this.batch = batch;
            this.channels = channels;
            this.inner = inner;
        }

        /** Runs {@code body} over channel ranges, in parallel when the tensor is large. */
        void forChannels(Parallel.RangeBody body) {
            int grain = (int) Math.max(1, Math.min(channels, Grain.ELEMENTWISE / Math.max(1L, (long) batch * inner)));
            if ((long) batch * inner * channels < 2L * Grain.ELEMENTWISE) {
                body.run(0, channels);
            } else {
                Parallel.forRange(channels, grain, body);
            }
        }

        /** This thread's scratch for one channel of 16-bit data, all its runs (null for FP32 input). */
        float[] channelBuffer() {
            return x.dtype == DType.FP32 ? null : SCRATCH.get(CHANNEL, batch * inner);
        }

        /** This thread's scratch for one run of 16-bit output (null for FP32 input). */
        float[] runBuffer() {
            return x.dtype == DType.FP32 ? null : SCRATCH.get(RUN, inner);
        }

        /** Offset of the run {@code (b, c)} from the start of a contiguous tensor of this shape. */
        int base(int b, int c) {
            return (b * channels + c) * inner;
        }

        /**
         * The array holding channel {@code c} as FP32: the storage itself, or {@code buf} filled
         * with the channel's runs widened (each element converted once per pass over the channel).
         */
        float[] channel(int c, float[] buf) {
            if (buf == null) {
                return x.floats;
            }
            for (int b = 0; b < batch; b++) {
                Conversions.widen(x.dtype, x.shorts, x.offset + base(b, c), buf, b * inner, inner);
            }
            return buf;
        }

        /** Where run {@code (b, c)} starts in the array {@link #channel} returned. */
        int start(int b, int c, float[] buf) {
            return buf == null ? x.offset + base(b, c) : b * inner;
        }

        /** A new contiguous tensor of the input's dtype and shape. */
        Tensor output() {
            int n = x.numel;
            int[] strides = Strided.contiguousStrides(x.shape);
            return x.dtype == DType.FP32
                    ? new Tensor(DType.FP32, new float[n], null, 0, x.shape.clone(), strides)
                    : new Tensor(x.dtype, null, new short[n], 0, x.shape.clone(), strides);
        }

        float[] target(Tensor out, float[] res) {
            return res == null ? out.floats : res;
        }

        int targetStart(Tensor out, int b, int c, float[] res) {
            return res == null ? base(b, c) : 0;
        }

        /** Rounds a 16-bit run from {@code res} into {@code out}. */
        void flush(Tensor out, int b, int c, float[] res) {
            if (res != null) {
                Conversions.narrow(out.dtype, res, 0, out.shorts, base(b, c), inner);
            }
        }
    }
}
