package dev.mpt.bench;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
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
 * <p>The setup runs and checks the first step ({@code checkFirstStep}) against a plain-loop twin and
 * a double-precision reference, so a fast but wrong kernel fails the run instead of reporting a
 * figure; the measured steps are the ones after it.
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
     * Runs the first step and checks it against a plain-loop twin, so a fast but wrong kernel fails
     * the run instead of reporting a figure:
     * <ul>
     * <li>forward: the twin repeats the model's ops to the bit in plain loops (the input rounded to
     *     the model's dtype; each Linear one in-order FMA chain per element, as {@code Gemm}
     *     specifies, rounded to the dtype, then the bias added in FP32 and rounded; ReLU), and the
     *     step's loss must be within {@code 5u |L| + 2^-46 (C + 2 max|z| + log C)} of the
     *     cross-entropy of the twin's logits in double ({@code u = 2^-24}; the bound counted in
     *     mpt-nn's {@code LossesTest});
     * <li>backward and update: the change of the last layer's FP32 masters, divided by the
     *     learning rate (the first SGD step moves by {@code lr g}), must be within the bound below
     *     of the double gradient {@code g = sum_i (p_i - q_i) h_i / N} from the twin's activations.
     * </ul>
     * The gradient bound: each logit gradient is within {@code 6.4u / N} of {@code (p - q)/N}
     * (LossesTest), then scaled by the loss scale S (exact) and rounded to the dtype
     * ({@code u_dt} relative, half the smallest subnormal absolute); the weight gradient is an
     * FP32 sum of 256 products ({@code gamma_256}, any order) rounded to the dtype; the unscale
     * divides by a power of two (exact); the update {@code w - lr g} and the difference taken
     * here add {@code 2u |g| + u |w| / lr}.
     */
    private void checkFirstStep(Sequential model) {
        String what = "TrainingStepBenchmark " + precision;
        DType dt = precision.modelDtype();
        var masters = trainer.optimizer().masterWeights();
        String last = "5.weight";
        float[] before = masters.master(last);
        // the twin's forward, from the converted weights
        float[] h = inputs.to(dt).toFloatArray();
        int width = FEATURES;
        for (int layer : new int[] {1, 3, 5}) {
            float[] w = model.namedParameters().get(layer + ".weight").value().toFloatArray();
            float[] b = model.namedParameters().get(layer + ".bias").value().toFloatArray();
            int out = b.length;
            h = linear(h, width, w, b, out, dt, layer != 5);
            if (layer == 3) {
                hidden2 = h;
            }
            width = out;
        }
        float[] logits = h;
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

    /** The second hidden layer's output of the twin's forward pass, kept for the gradient. */
    private float[] hidden2;

    /**
     * The twin of {@code Linear} (and ReLU): {@code y[i][o] = round(round(chain_p fma(x[i][p],
     * w[o][p])) + b[o])} with the chain in order from p = 0 in FP32 and {@code round} to the dtype.
     */
    private static float[] linear(float[] x, int in, float[] w, float[] b, int out, DType dt, boolean relu) {
        float[] wt = new float[in * out];
        for (int o = 0; o < out; o++) {
            for (int p = 0; p < in; p++) {
                wt[p * out + o] = w[o * in + p];
            }
        }
        int rows = x.length / in;
        float[] y = new float[rows * out];
        float[] acc = new float[out];
        for (int i = 0; i < rows; i++) {
            java.util.Arrays.fill(acc, 0f);
            for (int p = 0; p < in; p++) {
                float xp = x[i * in + p];
                for (int o = 0; o < out; o++) {
                    acc[o] = Math.fma(xp, wt[p * out + o], acc[o]);
                }
            }
            for (int o = 0; o < out; o++) {
                float v = SetupCheck.round(dt, SetupCheck.round(dt, acc[o]) + b[o]);
                y[i * out + o] = relu ? Math.max(v, 0f) : v;
            }
        }
        return y;
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
