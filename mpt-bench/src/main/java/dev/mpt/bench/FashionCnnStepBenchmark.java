package dev.mpt.bench;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.examples.FashionCnn;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.train.StepResult;
import dev.mpt.optim.train.Trainer;
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
 * One full {@link Trainer#step(Tensor, int[])} of the fashion-cnn example's model
 * ({@link FashionCnn#model}: 2 x (3x3 convolution, BatchNorm, ReLU, 2x2 max pooling) with 32 and
 * 64 channels, then Linear 3136-128, ReLU, Linear 128-10) at the example's batch 128, with its
 * optimizer (Adam, learning rate 0.001, constant here: the example's cosine schedule costs
 * nothing measurable) and cross-entropy, in each {@link Precision}, on {@code threads} threads.
 * Inputs are standard normal (the example standardizes its pixels) and labels uniform in
 * [0, 10), from a fixed seed, the same every step. {@code mpt-bench/peer/torch_steps.py} times
 * the same step in PyTorch.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar FashionCnnStep}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class FashionCnnStepBenchmark {

    /** fashion-cnn's default batch, channels of the first block and Adam learning rate. */
    static final int BATCH = 128;
    static final int CHANNELS = 32;
    static final double LEARNING_RATE = 0.001;
    static final int CLASSES = 10;

    @Param({"FP32", "MIXED_FP16", "MIXED_BF16"})
    public Precision precision;

    @Param({"2"})
    public int threads;

    private int threadsBefore;
    private Trainer trainer;
    private Tensor inputs;
    private int[] labels;

    @Setup
    public void setUp() {
        threadsBefore = Parallel.threads();
        Parallel.setThreads(threads);
        SplittableRandom rng = new SplittableRandom(42);
        float[] x = new float[BATCH * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        inputs = Tensor.of(x, BATCH, 1, 28, 28);
        labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            labels[i] = rng.nextInt(CLASSES);
        }
        trainer = Trainer.builder(FashionCnn.model(42, CHANNELS))
                .precision(precision)
                .optimizer(new Adam(LEARNING_RATE))
                .loss(Losses::crossEntropy)
                .logEvery(0)
                .build();
    }

    @TearDown
    public void tearDown() {
        Parallel.setThreads(threadsBefore);
    }

    /** One forward, loss, scaled backward and optimizer step (or skip). */
    @Benchmark
    public StepResult step() {
        return trainer.step(inputs, labels);
    }
}
