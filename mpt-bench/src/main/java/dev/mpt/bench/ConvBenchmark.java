package dev.mpt.bench;

import dev.mpt.core.Conv2dSpec;
import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One 3x3 convolution layer of a small CNN through {@link Tensor#conv2d}: input [32, 64, 32, 32],
 * weight [64, 64, 3, 3], bias [64], padding 1, stride 1 (output [32, 64, 32, 32]), in FP32, FP16
 * and BF16 (16-bit in and out, FP32 accumulation), on 1 and 2 kernel threads.
 *
 * <p>{@code forward} is the convolution alone (autograd off); {@code forwardBackward} also runs the
 * backward pass from a fixed output gradient, producing the input, weight and bias gradients.
 * Scores are milliseconds per call. The forward pass is
 * {@code 2 N Cout H W Cin 9 = 2 * 32 * 64 * 32 * 32 * 64 * 9 = 2.416 GFLOP}; the backward pass
 * (input gradient plus weight gradient) is twice that, so a forward+backward call is 7.248 GFLOP:
 * {@code GFLOP/s = 2416 / t_ms} for {@code forward} and {@code 7248 / t_ms} for
 * {@code forwardBackward}.
 *
 * <p>The setup checks both benchmarks' results once against a double-precision direct convolution
 * ({@code check()}), so a fast but wrong kernel fails the run instead of reporting a figure.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar Conv}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class ConvBenchmark {

    static final int BATCH = 32;
    static final int CHANNELS = 64;
    static final int SIZE = 32;
    static final int KERNEL = 3;

    /** Storage and arithmetic type of input, weight, bias and output. */
    @Param({"FP32", "FP16", "BF16"})
    public DType dtype;

    /** Kernel threads ({@link Parallel#setThreads}). */
    @Param({"1", "2"})
    public int threads;

    private Tensor x;
    private Tensor w;
    private Tensor b;
    private Tensor seed;
    private final Conv2dSpec spec = Conv2dSpec.of(1, 1);
    private int savedThreads;

    @Setup
    public void setUp() {
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
        SplittableRandom rng = new SplittableRandom(42);
        // He-style scale keeps the FP16 output and gradients well inside the format's range
        float scale = (float) Math.sqrt(2.0 / (CHANNELS * KERNEL * KERNEL));
        x = Tensor.randn(rng, dtype, BATCH, CHANNELS, SIZE, SIZE).requiresGrad(true);
        w = Tensor.randn(rng, DType.FP32, CHANNELS, CHANNELS, KERNEL, KERNEL).mul(scale).to(dtype)
                .detach().requiresGrad(true);
        b = Tensor.randn(rng, dtype, CHANNELS).requiresGrad(true);
        seed = Tensor.randn(rng, dtype, BATCH, CHANNELS, SIZE, SIZE);
        check();
    }

    /** Elements of each result checked at setup. */
    static final int CHECKED = 48;

    /**
     * Checks {@link #forward} and {@link #forwardBackward} once against a double-precision direct
     * convolution at {@value #CHECKED} random elements of the output, the input gradient, the weight
     * gradient and all of the bias gradient, each within {@link SetupCheck#dotBound} (FP32
     * accumulation in any order, rounded once to the dtype; the output within
     * {@link SetupCheck#biasedDotBound}, the product rounded, then the bias added and rounded).
     */
    private void check() {
        String what = "ConvBenchmark " + dtype;
        float[] xs = x.toFloatArray();
        float[] ws = w.toFloatArray();
        float[] bs = b.toFloatArray();
        float[] gs = seed.toFloatArray();
        float[] y = forward().toFloatArray();
        forwardBackward();
        float[] dx = x.grad().toFloatArray();
        float[] dw = w.grad().toFloatArray();
        float[] db = b.grad().toFloatArray();
        x.zeroGrad();
        w.zeroGrad();
        b.zeroGrad();
        int c = CHANNELS;
        int s = SIZE;
        var pick = new SplittableRandom(1);
        for (int k = 0; k < CHECKED; k++) {
            // output y[n, o, i, j] = b[o] + sum_{ci, u, v} x[n, ci, i + u - 1, j + v - 1] w[o, ci, u, v]
            int n = pick.nextInt(BATCH);
            int o = pick.nextInt(c);
            int i = pick.nextInt(s);
            int j = pick.nextInt(s);
            double sum = 0;
            double abs = 0;
            for (int ci = 0; ci < c; ci++) {
                for (int u = 0; u < KERNEL; u++) {
                    for (int v = 0; v < KERNEL; v++) {
                        int yi = i + u - 1;
                        int xj = j + v - 1;
                        if (yi >= 0 && yi < s && xj >= 0 && xj < s) {
                            double t = (double) xs[((n * c + ci) * s + yi) * s + xj] * ws[((o * c + ci) * KERNEL + u)
                                    * KERNEL + v];
                            sum += t;
                            abs += Math.abs(t);
                        }
                    }
                }
            }
            SetupCheck.near(what, "y[" + n + ", " + o + ", " + i + ", " + j + "]", y[((n * c + o) * s + i) * s + j],
                    sum + bs[o], SetupCheck.biasedDotBound(c * KERNEL * KERNEL, sum, abs, sum + bs[o], dtype));
            // input gradient dx[n, ci, i, j] = sum_{o, u, v} g[n, o, i - u + 1, j - v + 1] w[o, ci, u, v]
            int ci = o;
            sum = 0;
            abs = 0;
            for (int oc = 0; oc < c; oc++) {
                for (int u = 0; u < KERNEL; u++) {
                    for (int v = 0; v < KERNEL; v++) {
                        int oi = i - u + 1;
                        int oj = j - v + 1;
                        if (oi >= 0 && oi < s && oj >= 0 && oj < s) {
                            double t = (double) gs[((n * c + oc) * s + oi) * s + oj] * ws[((oc * c + ci) * KERNEL + u)
                                    * KERNEL + v];
                            sum += t;
                            abs += Math.abs(t);
                        }
                    }
                }
            }
            SetupCheck.near(what, "dx[" + n + ", " + ci + ", " + i + ", " + j + "]",
                    dx[((n * c + ci) * s + i) * s + j], sum, SetupCheck.dotBound(c * KERNEL * KERNEL, sum, abs, dtype, 1));
            // weight gradient dw[o, ci, u, v] = sum_{n, i, j} g[n, o, i, j] x[n, ci, i + u - 1, j + v - 1]
            int wci = pick.nextInt(c);
            int u = pick.nextInt(KERNEL);
            int v = pick.nextInt(KERNEL);
            sum = 0;
            abs = 0;
            for (int m = 0; m < BATCH; m++) {
                for (int oi = 0; oi < s; oi++) {
                    for (int oj = 0; oj < s; oj++) {
                        int yi = oi + u - 1;
                        int xj = oj + v - 1;
                        if (yi >= 0 && yi < s && xj >= 0 && xj < s) {
                            double t = (double) gs[((m * c + o) * s + oi) * s + oj] * xs[((m * c + wci) * s + yi) * s
                                    + xj];
                            sum += t;
                            abs += Math.abs(t);
                        }
                    }
                }
            }
            SetupCheck.near(what, "dw[" + o + ", " + wci + ", " + u + ", " + v + "]",
                    dw[((o * c + wci) * KERNEL + u) * KERNEL + v], sum,
                    SetupCheck.dotBound(BATCH * s * s, sum, abs, dtype, 1));
        }
        for (int o = 0; o < c; o++) {
            double sum = 0;
            double abs = 0;
            for (int m = 0; m < BATCH; m++) {
                for (int p = 0; p < s * s; p++) {
                    sum += gs[(m * c + o) * s * s + p];
                    abs += Math.abs(gs[(m * c + o) * s * s + p]);
                }
            }
            SetupCheck.near(what, "db[" + o + "]", db[o], sum, SetupCheck.dotBound(BATCH * s * s, sum, abs, dtype, 1));
        }
    }

    @TearDown
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    @Benchmark
    public Tensor forward() {
        return x.detach().conv2d(w.detach(), b.detach(), spec);
    }

    @Benchmark
    public Tensor forwardBackward() {
        x.zeroGrad();
        w.zeroGrad();
        b.zeroGrad();
        x.conv2d(w, b, spec).backward(seed);
        return w.grad();
    }
}
