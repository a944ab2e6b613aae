package dev.mpt.bench;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The point-wise and reduction ops of one MLP training step at batch 256, through the public
 * {@link Tensor} API (autograd included), in FP32 and FP16:
 * <ul>
 *   <li>{@code biasAdd}: {@code [256, 1024] + [1024]} (broadcast over rows); its backward sums the
 *       gradient over the batch for the bias;
 *   <li>{@code relu} on {@code [256, 1024]}; its backward masks the gradient by {@code x > 0};
 *   <li>{@code logSoftmax} along dim 1 of {@code [256, 10]} (FP32 out); its backward;
 *   <li>{@code sum} of all of {@code [256, 1024]} (FP32 out, double accumulation).
 * </ul>
 * The {@code ...ForwardBackward} benchmarks run the op with autograd on and backpropagate a fixed
 * seed gradient, so backward time = their score minus the forward score. Scores are microseconds
 * per call; {@code [256, 1024]} is 262,144 elements, so {@code elements/ns = 262.1 / t_us}
 * (1 MiB of FP32 or 512 KiB of FP16 per operand).
 *
 * <p>The setup checks every benchmark's result once ({@code check()}), so a fast but wrong kernel
 * fails the run instead of reporting a figure.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar TensorOps}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class TensorOpsBenchmark {

    static final int BATCH = 256;
    static final int WIDTH = 1024;
    static final int CLASSES = 10;

    /** Dtype of the activations, bias and logits. */
    @Param({"FP32", "FP16"})
    public DType dtype;

    private Tensor x;
    private Tensor bias;
    private Tensor logits;
    private Tensor seed;
    private Tensor seedLogits;

    @Setup
    public void setUp() {
        SplittableRandom rng = new SplittableRandom(7);
        x = Tensor.randn(rng, dtype, BATCH, WIDTH).requiresGrad(true);
        bias = Tensor.randn(rng, dtype, WIDTH).requiresGrad(true);
        logits = Tensor.randn(rng, dtype, BATCH, CLASSES).requiresGrad(true);
        seed = Tensor.randn(rng, dtype, BATCH, WIDTH);
        seedLogits = Tensor.randn(rng, DType.FP32, BATCH, CLASSES);
        check();
    }

    /**
     * Checks every benchmark's result once against its specification: the point-wise forward and
     * backward ops bit for bit against the plain loop (computed in FP32, rounded once to the
     * dtype); the bias gradient, the sum and log-softmax against double references, with bounds
     * counted from their roundings.
     */
    private void check() {
        String what = "TensorOpsBenchmark " + dtype;
        float[] xs = x.toFloatArray();
        float[] bs = bias.toFloatArray();
        float[] gs = seed.toFloatArray();
        float[] y = biasAdd().toFloatArray();
        float[] r = relu().toFloatArray();
        for (int i = 0; i < BATCH; i++) {
            for (int j = 0; j < WIDTH; j++) {
                int k = i * WIDTH + j;
                SetupCheck.near(what, "biasAdd[" + i + ", " + j + "]", y[k], SetupCheck.round(dtype, xs[k] + bs[j]), 0);
                SetupCheck.near(what, "relu[" + i + ", " + j + "]", r[k], xs[k] > 0 ? xs[k] : 0, 0);
            }
        }
        float[] db = biasAddForwardBackward().toFloatArray();
        float[] dx = x.grad().toFloatArray();
        for (int j = 0; j < WIDTH; j++) {
            double sum = 0;
            double abs = 0;
            for (int i = 0; i < BATCH; i++) {
                sum += gs[i * WIDTH + j];
                abs += Math.abs(gs[i * WIDTH + j]);
            }
            SetupCheck.near(what, "biasAdd: dbias[" + j + "]", db[j], sum, SetupCheck.dotBound(BATCH, sum, abs, dtype, 1));
        }
        SetupCheck.sameBits(what + " biasAdd: dx", dx, gs);
        float[] dr = reluForwardBackward().toFloatArray();
        for (int k = 0; k < dr.length; k++) {
            SetupCheck.near(what, "relu: dx[" + k + "]", dr[k], xs[k] > 0 ? gs[k] : 0, 0);
        }
        // sum: terms and partial sums in double, one rounding to FP32: u |S| + n 2^-53 sum |x|
        double total = 0;
        double abs = 0;
        for (float v : xs) {
            total += v;
            abs += Math.abs(v);
        }
        SetupCheck.near(what, "sum", sum().item(), total, 0x1p-24 * Math.abs(total) + xs.length * 0x1p-52 * abs);
        checkLogSoftmax(what);
        x.zeroGrad();
        bias.zeroGrad();
        logits.zeroGrad();
    }

    /**
     * Log-softmax {@code z - m - log sum exp(z - m)} is evaluated in double and rounded once to
     * FP32: {@code u |ref|} plus {@code 2^-48 (C + 2 max|z|)} for the double evaluations. Its
     * gradient {@code g - softmax sum(g)} is evaluated in double from the FP32 log-probabilities,
     * whose error {@code u |log p|} moves {@code softmax} by at most {@code p u |log p| <= u / e}:
     * within {@code u / e |sum g| + u |ref|}, plus one rounding to FP16 for FP16 logits.
     */
    private void checkLogSoftmax(String what) {
        float[] z = logits.toFloatArray();
        float[] gz = seedLogits.toFloatArray();
        float[] lp = logSoftmax().toFloatArray();
        float[] dz = logSoftmaxForwardBackward().toFloatArray();
        double u = 0x1p-24;
        for (int i = 0; i < BATCH; i++) {
            double m = Double.NEGATIVE_INFINITY;
            double maxAbs = 0;
            for (int c = 0; c < CLASSES; c++) {
                m = Math.max(m, z[i * CLASSES + c]);
                maxAbs = Math.max(maxAbs, Math.abs(z[i * CLASSES + c]));
            }
            double s = 0;
            double gsum = 0;
            for (int c = 0; c < CLASSES; c++) {
                s += Math.exp(z[i * CLASSES + c] - m);
                gsum += gz[i * CLASSES + c];
            }
            double slack = 0x1p-48 * (CLASSES + 2 * maxAbs);
            for (int c = 0; c < CLASSES; c++) {
                int k = i * CLASSES + c;
                double ref = z[k] - m - Math.log(s);
                SetupCheck.near(what, "logSoftmax[" + i + ", " + c + "]", lp[k], ref, u * Math.abs(ref) + slack);
                double g = gz[k] - Math.exp(ref) * gsum;
                double tol = (u / Math.E * Math.abs(gsum) + u * Math.abs(g)) * (1 + 0x1p-20) + slack * Math.abs(gsum);
                if (dtype != DType.FP32) {
                    tol += 0x1p-11 * (Math.abs(g) + tol) + 0x1p-25;
                }
                SetupCheck.near(what, "logSoftmax: dz[" + i + ", " + c + "]", dz[k], g, tol);
            }
        }
    }

    @Benchmark
    public Tensor biasAdd() {
        return x.detach().add(bias.detach());
    }

    @Benchmark
    public Tensor biasAddForwardBackward() {
        x.zeroGrad();
        bias.zeroGrad();
        x.add(bias).backward(seed);
        return bias.grad();
    }

    @Benchmark
    public Tensor relu() {
        return x.detach().relu();
    }

    @Benchmark
    public Tensor reluForwardBackward() {
        x.zeroGrad();
        x.relu().backward(seed);
        return x.grad();
    }

    @Benchmark
    public Tensor logSoftmax() {
        return logits.detach().logSoftmax(1);
    }

    @Benchmark
    public Tensor logSoftmaxForwardBackward() {
        logits.zeroGrad();
        logits.logSoftmax(1).backward(seedLogits);
        return logits.grad();
    }

    @Benchmark
    public Tensor sum() {
        return x.detach().sum();
    }
}
