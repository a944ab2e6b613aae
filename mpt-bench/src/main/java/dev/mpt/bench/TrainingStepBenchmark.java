package dev.mpt.bench;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
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
 * <p>The setup runs and checks the first step ({@code checkFirstStep}) against double-precision
 * references, so a fast but wrong kernel fails the run instead of reporting a figure; the measured
 * steps are the ones after it.
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
                .optimizer(new Sgd(LR, 0.9))
                .loss(Losses::crossEntropy)
                .logEvery(0)
                .build();
        checkFirstStep(model);
    }

    static final double LR = 0.01;

    /**
     * Runs the first step and checks it, so a fast but wrong kernel fails the run instead of
     * reporting a figure ({@code u = 2^-24}, {@code u_dt} the model dtype's unit roundoff):
     * <ul>
     * <li>forward, layer by layer on the step's batch: each {@code Linear}'s output against the
     *     double {@code sum_p w h + b} of the same input, within {@link SetupCheck#biasedDotBound}
     *     (FP32 accumulation in any order, rounded to the dtype, then the bias added), each ReLU
     *     exactly; so any kernel order (or a native backend) passes and a wrong element fails;
     * <li>the step's loss against the double cross-entropy of those logits, within
     *     {@code 5u |L| + 2^-46 (C + 2 max|z| + log C)} (the bound counted in mpt-nn's
     *     {@code LossesTest}; a forward pass gives the same bits in any batch and thread count);
     * <li>backward and update: the change of the last layer's FP32 masters divided by the learning
     *     rate (the first SGD step moves by {@code lr g}) against the double gradient
     *     {@code g = sum_i (p_i - q_i) h_i / N}. Each logit gradient is within {@code 6.4u / N} of
     *     {@code (p - q) / N} (LossesTest), then scaled by the loss scale S (exact) and rounded to
     *     the dtype ({@code u_dt} relative, half the smallest subnormal absolute); the weight
     *     gradient is an FP32 sum of 256 products ({@code gamma_256}, any order) rounded to the
     *     dtype; unscaling divides by a power of two (exact); the update {@code w - lr g} and the
     *     difference taken here add {@code 2u |g| + u |w| / lr}.
     * </ul>
     */
    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    private void checkFirstStep(Sequential model) {
        String what = "TrainingStepBenchmark " + precision;
        DType dt = precision.modelDtype();
        var masters = trainer.optimizer().masterWeights();
        String last = "5.weight";
        float[] before = masters.master(last);
        Tensor h = inputs.to(dt);
        float[] hidden2 = null;
        try (NoGrad scope = NoGrad.enter()) {
            for (Module layer : model.layers()) {
                float[] in = h.toFloatArray();
                h = layer.forward(h);
                float[] out = h.toFloatArray();
                if (layer instanceof Linear) {
                    checkLinear(what, layer, in, out, dt);
                } else if (layer instanceof ReLU) {
                    for (int k = 0; k < out.length; k++) {
                        SetupCheck.near(what, "ReLU element " + k, out[k], Math.max(in[k], 0f), 0);
                    }
                    hidden2 = out;
                }
            }
        }
        float[] logits = h.toFloatArray();
        StepResult r = trainer.step(inputs, labels);
        if (r.outcome().skipped()) {
            throw new IllegalStateException(what + ": the first step was skipped at scale " + r.outcome().scale()
                    + "; the check needs an applied step");
        }
        double u = 0x1p-24;
        double loss = 0;
        double maxAbs = 0;
        double[] dz = new double[BATCH * CLASSES];
        for (int i = 0; i < BATCH; i++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < CLASSES; c++) {
                m = Math.max(m, logits[i * CLASSES + c]);
                maxAbs = Math.max(maxAbs, Math.abs(logits[i * CLASSES + c]));
            }
            double sum = 0;
            for (int c = 0; c < CLASSES; c++) {
                sum += Math.exp(logits[i * CLASSES + c] - m);
            }
            for (int c = 0; c < CLASSES; c++) {
                double logp = logits[i * CLASSES + c] - m - Math.log(sum);
                int q = c == labels[i] ? 1 : 0;
                loss -= q * logp / BATCH;
                dz[i * CLASSES + c] = (Math.exp(logp) - q) / BATCH;
            }
        }
        SetupCheck.near(what, "loss", r.loss(), loss,
                (5 * u + 0x1p-40) * loss + 0x1p-46 * (CLASSES + 2 * maxAbs + Math.log(CLASSES)));
        double scale = r.outcome().scale();
        double unit = SetupCheck.unit(dt);
        double tiny = SetupCheck.tiny(dt);
        float[] after = masters.master(last);
        double gamma = BATCH * u / (1 - BATCH * u);
        for (int c = 0; c < CLASSES; c++) {
            for (int k = 0; k < HIDDEN; k++) {
                double g = 0;
                double abs = 0;
                double logitError = 0;
                for (int i = 0; i < BATCH; i++) {
                    double d = dz[i * CLASSES + c];
                    double e = 6.4 * u / BATCH * (1 + 0x1p-20);
                    e += unit * (Math.abs(d) + e) + tiny / scale;
                    double hk = Math.abs(hidden2[i * HIDDEN + k]);
                    g += d * hidden2[i * HIDDEN + k];
                    abs += (Math.abs(d) + e) * hk;
                    logitError += e * hk;
                }
                double tol = logitError + gamma * abs * (1 + 0x1p-40);
                tol += unit * (Math.abs(g) + tol) + tiny / scale;
                int j = c * HIDDEN + k;
                tol += 2 * u * (Math.abs(g) + tol) + u * Math.abs(after[j]) / LR;
                double moved = ((double) before[j] - after[j]) / LR;
                SetupCheck.near(what, "last layer's update / lr at [" + c + ", " + k + "]", moved, g,
                        tol * (1 + 0x1p-20));
            }
        }
    }

    /** A Linear layer's output {@code y = x w^T + b} against the double sums, within {@link SetupCheck#biasedDotBound}. */
    private static void checkLinear(String what, Module layer, float[] x, float[] y, DType dt) {
        float[] w = layer.namedParameters().get("weight").value().toFloatArray();
        float[] b = layer.namedParameters().get("bias").value().toFloatArray();
        int out = b.length;
        int in = w.length / out;
        int rows = x.length / in;
        for (int i = 0; i < rows; i++) {
            for (int o = 0; o < out; o++) {
                double sum = 0;
                double abs = 0;
                for (int p = 0; p < in; p++) {
                    double t = (double) x[i * in + p] * w[o * in + p];
                    sum += t;
                    abs += Math.abs(t);
                }
                SetupCheck.near(what, layer + " output [" + i + ", " + o + "]", y[i * out + o], sum + b[o],
                        SetupCheck.biasedDotBound(in, sum, abs, sum + b[o], dt));
            }
        }
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
