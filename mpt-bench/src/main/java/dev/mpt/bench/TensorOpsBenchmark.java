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
