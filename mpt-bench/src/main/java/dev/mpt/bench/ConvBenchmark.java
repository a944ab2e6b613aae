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
