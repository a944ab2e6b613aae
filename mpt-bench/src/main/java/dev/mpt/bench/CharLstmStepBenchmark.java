package dev.mpt.bench;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.examples.CharLstm;
import dev.mpt.nn.Module;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
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
 * One training step of the char-lstm example, as its loop does it: the example's model
 * ({@link CharLstm#model}: Embedding 83-32, a 2-layer batch-first LSTM of width 128, Linear
 * 128-83 over every position) at its defaults, batch 32 x 64 characters, through an
 * {@link AmpOptimizer} with Adam (learning rate 0.002) and gradient clipping to global norm
 * {@link CharLstm#CLIP_NORM}: zero the gradients, forward, cross-entropy over the 2048 positions,
 * scaled backward, unscale-check-clip-update. In each {@link Precision}, on {@code threads}
 * threads. The vocabulary is that of the bundled Moby-Dick (83 characters); ids and targets are
 * uniform over it, from a fixed seed, the same every step. {@code mpt-bench/peer/torch_steps.py}
 * times the same step in PyTorch.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar CharLstmStep}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class CharLstmStepBenchmark {

    /** The bundled Moby-Dick's vocabulary, as char-lstm reports it. */
    static final int VOCAB = 83;
    /** char-lstm's default embedding width, LSTM width, batch, sequence length and learning rate. */
    static final int EMBEDDING = 32;
    static final int HIDDEN = 128;
    static final int BATCH = 32;
    static final int SEQ_LEN = 64;
    static final double LEARNING_RATE = 0.002;

    @Param({"FP32", "MIXED_FP16", "MIXED_BF16"})
    public Precision precision;

    @Param({"2"})
    public int threads;

    private int threadsBefore;
    private Module net;
    private AmpOptimizer optimizer;
    private Tensor ids;
    private int[] targets;

    @Setup
    public void setUp() {
        threadsBefore = Parallel.threads();
        Parallel.setThreads(threads);
        SplittableRandom rng = new SplittableRandom(42);
        float[] x = new float[BATCH * SEQ_LEN];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextInt(VOCAB);
        }
        ids = Tensor.of(x, BATCH, SEQ_LEN);
        targets = new int[BATCH * SEQ_LEN];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = rng.nextInt(VOCAB);
        }
        net = CharLstm.model(42, VOCAB, EMBEDDING, HIDDEN).net();
        optimizer = AmpOptimizer.builder(net, new Adam(LEARNING_RATE))
                .precision(precision)
                .clipGradNorm(CharLstm.CLIP_NORM)
                .build();
    }

    @TearDown
    public void tearDown() {
        Parallel.setThreads(threadsBefore);
    }

    /** One zero-grad, forward, loss, scaled backward and optimizer step (or skip). */
    @Benchmark
    public StepOutcome step() {
        optimizer.zeroGrad();
        Tensor loss = Losses.crossEntropy(net.forward(ids), targets);
        loss.item();
        optimizer.scale(loss).backward();
        return optimizer.step();
    }
}
