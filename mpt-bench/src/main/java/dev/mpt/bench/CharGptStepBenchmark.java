package dev.mpt.bench;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.examples.CharGpt;
import dev.mpt.nn.Gpt;
import dev.mpt.nn.loss.Losses;
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
 * One training step of the char-gpt example at its defaults, as its loop does it: {@link Gpt}
 * with 4 pre-norm blocks of 4 heads, width 128, context 128, dropout 0.1, read-out tied to the
 * token table, over batch 32 x 128 characters; AdamW (learning rate 0.001, betas 0.9 and 0.99,
 * eps 1e-8) in the example's two groups of one {@link AmpOptimizer} ({@link CharGpt#optimizer}: weight decay 0.1 on the
 * Linear weight matrices, none on biases, norms and embeddings; {@link Gpt#decayGroups()}), no
 * gradient clipping (the example sets none): zero the gradients, forward, cross-entropy over the
 * 4096 positions, scaled backward, unscale-check-update. In each {@link Precision}, on
 * {@code threads} threads. The vocabulary is that of the bundled Moby-Dick (83 characters); ids
 * and targets are uniform over it, from a fixed seed, the same every step.
 * {@code mpt-bench/peer/torch_steps.py} times the same step in PyTorch (case {@code gpt}).
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar CharGptStep}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class CharGptStepBenchmark {

    /** char-gpt's defaults (CharGpt's options) and the Moby-Dick vocabulary. */
    static final int VOCAB = CharLstmStepBenchmark.VOCAB;
    static final int LAYERS = 4;
    static final int HEADS = 4;
    static final int WIDTH = 128;
    static final int CONTEXT = 128;
    static final int BATCH = 32;
    static final double DROPOUT = 0.1;
    /** char-gpt's AdamW learning rate and weight decay (its --lr and --weight-decay defaults). */
    static final double LEARNING_RATE = 0.001;
    static final double WEIGHT_DECAY = 0.1;

    @Param({"FP32", "MIXED_FP16", "MIXED_BF16"})
    public Precision precision;

    @Param({"2"})
    public int threads;

    private int threadsBefore;
    private Gpt model;
    private AmpOptimizer optimizer;
    private Tensor ids;
    private int[] targets;

    @Setup
    public void setUp() {
        threadsBefore = Parallel.threads();
        Parallel.setThreads(threads);
        SplittableRandom rng = new SplittableRandom(42);
        float[] x = new float[BATCH * CONTEXT];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextInt(VOCAB);
        }
        ids = Tensor.of(x, BATCH, CONTEXT);
        targets = new int[BATCH * CONTEXT];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = rng.nextInt(VOCAB);
        }
        model = new Gpt(VOCAB, CONTEXT, WIDTH, LAYERS, HEADS, DROPOUT, new SplittableRandom(42));
        optimizer = CharGpt.optimizer(model, precision, LEARNING_RATE, WEIGHT_DECAY);
    }

    @TearDown
    public void tearDown() {
        Parallel.setThreads(threadsBefore);
    }

    /** One zero-grad, forward, loss, scaled backward and optimizer step (or skip). */
    @Benchmark
    public StepOutcome step() {
        optimizer.zeroGrad();
        Tensor logits = model.forward(ids);
        Tensor loss = Losses.crossEntropy(logits.reshape(BATCH * CONTEXT, VOCAB), targets);
        loss.item();
        optimizer.scale(loss).backward();
        return optimizer.step();
    }
}
