package dev.mpt.bench;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Sgd;
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
 * One full {@link Trainer#step(Tensor, int[])} of the main example's model: an MLP
 * 784-1024-1024-10 (Flatten, Linear, ReLU, Linear, ReLU, Linear) at batch 256, SGD with momentum
 * 0.9, cross-entropy, in each {@link Precision}, on 1 and 2 threads ({@link Parallel#setThreads}).
 * Inputs are uniform in [0, 1) and labels uniform in [0, 10), from a fixed seed, the same every
 * step. The step does about 2 * 256 * (784*1024 + 1024*1024 + 1024*10) * 3 = 2.9 GFLOP of GEMM, so
 * {@code GFLOP/s = 2.9e3 / t_ms}.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar TrainingStep}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class TrainingStepBenchmark {

    static final int BATCH = 256;
    static final int FEATURES = 784;
    static final int HIDDEN = 1024;
    static final int CLASSES = 10;

    @Param({"FP32", "MIXED_FP16", "MIXED_BF16"})
    public Precision precision;

    @Param({"1", "2"})
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
        float[] x = new float[BATCH * FEATURES];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble();
        }
        inputs = Tensor.of(x, BATCH, FEATURES);
        labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            labels[i] = rng.nextInt(CLASSES);
        }
        var model = new Sequential(new Flatten(),
                new Linear(FEATURES, HIDDEN, 1), new ReLU(),
                new Linear(HIDDEN, HIDDEN, 2), new ReLU(),
                new Linear(HIDDEN, CLASSES, 3));
        trainer = Trainer.builder(model)
                .precision(precision)
                .optimizer(new Sgd(0.01, 0.9))
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
