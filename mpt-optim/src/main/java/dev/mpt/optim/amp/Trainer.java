package dev.mpt.optim.amp;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.nn.Buffer;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.checkpoint.Checkpoints;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.loss.Loss;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.schedule.LearningRateSchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Trains a classifier one batch at a time in a chosen {@link Precision}: forward pass in the
 * model's dtype, FP32 loss, scaled backward pass, and an {@link AmpOptimizer} step (unscale,
 * inf/NaN check, clipping, FP32 master update or skip).
 *
 * <pre>{@code
 * var trainer = Trainer.builder(model)
 *         .precision(Precision.MIXED_FP16)
 *         .optimizer(new Sgd(0.01, 0.9))
 *         .lossScaler(LossScaler.dynamic())
 *         .loss(Losses::crossEntropy)
 *         .logEvery(100)
 *         .build();
 * for (int epoch = 0; epoch < 10; epoch++) {
 *     for (Batch b : train.batches(128, trainer.random())) {
 *         StepResult r = trainer.step(b);
 *     }
 *     trainer.save(Path.of("run.safetensors"));          // everything needed to resume
 * }
 * Evaluation e = trainer.evaluate(test);
 * }</pre>
 *
 * <p>Checkpoints ({@link #save}, {@link #restore}) hold the model's parameters and buffers, the
 * FP32 masters, the optimizer state, the loss scaler's state, the step counters and the state of
 * {@link #random()}; a run restored from one continues bit for bit as the uninterrupted run would
 * have, provided it draws its batches from {@link #random()} in the same way. A
 * {@link dev.mpt.nn.data.Batches} iterator draws an epoch's permutation when it starts, so save
 * at epoch boundaries (or draw batches from {@link #random()} yourself). For dropout, create the
 * generator first and give it to both: {@code var rng = SplitMix64.seeded(7);}
 * {@code new Dropout(0.5, rng)} in the model and {@code .random(rng)} in the builder.
 *
 * <p>Progress is logged through SLF4J (logger {@code dev.mpt.optim.amp.Trainer}, level INFO)
 * every {@code logEvery} steps: step, loss, samples per second, scale and skipped steps so far.
 */
public final class Trainer {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** The checkpoint format name, in the metadata key {@code format}. */
    public static final String CHECKPOINT_FORMAT = "mpt-trainer-checkpoint-1";

    /** Default evaluation batch size. */
    static final int EVAL_BATCH = 256;

    private static final String MODEL = "model.";
    private static final String OPTIM = "optim.";

    private final Module model;
    private final Precision precision;
    private final AmpOptimizer amp;
    private final Loss<int[]> loss;
    private final SplitMix64 random;
    private final int logEvery;

    private long samplesSinceLog;
    private long nanosAtLog = System.nanoTime();

    private Trainer(Builder b, AmpOptimizer amp) {
        this.model = b.model;
        this.precision = b.precision;
        this.amp = amp;
        this.loss = b.loss;
        this.random = b.random;
        this.logEvery = b.logEvery;
        model.train();
    }

    /** A builder for training {@code model}. */
    public static Builder builder(Module model) {
        return new Builder(Objects.requireNonNull(model, "Trainer.builder: model is null"));
    }

    /** The model being trained (in the precision's dtype). */
    public Module model() {
        return model;
    }

    /** The precision. */
    public Precision precision() {
        return precision;
    }

    /** The mixed-precision optimizer (masters, optimizer state, loss scale). */
    public AmpOptimizer optimizer() {
        return amp;
    }

    /** The generator for shuffling (and dropout), saved in checkpoints. */
    public SplitMix64 random() {
        return random;
    }

    /** Step attempts so far, skipped ones included. */
    public long steps() {
        return amp.attemptedSteps();
    }

    /** One training step on a batch: its features shaped {@link Batch#inputShape()}. */
    public StepResult step(Batch batch) {
        Objects.requireNonNull(batch, "Trainer.step: batch is null");
        return step(Tensor.of(batch.features(), batch.inputShape()), batch.labels());
    }

    /**
     * One training step: converts {@code inputs} to the model's dtype, runs the forward pass and
     * the loss, the scaled backward pass and the optimizer step (or skip).
     *
     * @param inputs one row (first dimension) per sample, any dtype, finite
     * @param labels one class index per sample, {@code >= 0}
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if the sizes disagree, a label is negative or not below the
     *                                  model's number of outputs, or an input is NaN or infinite
     */
    public StepResult step(Tensor inputs, int[] labels) {
        Objects.requireNonNull(inputs, "Trainer.step: inputs is null");
        Objects.requireNonNull(labels, "Trainer.step: labels is null");
        checkBatch("Trainer.step", inputs, labels);
        amp.zeroGrad();
        Tensor out = model.forward(inputs.to(precision.modelDtype()));
        checkLabels("Trainer.step", out, labels);
        Tensor l = loss.apply(out, labels);
        if (l == null || l.numel() != 1) {
            throw new IllegalStateException("Trainer.step: the loss function returned "
                    + (l == null ? "null" : "shape " + Arrays.toString(l.shape())) + "; it must return one element");
        }
        double value = l.item();
        amp.scale(l).backward();
        StepOutcome o = amp.step();
        samplesSinceLog += labels.length;
        if (logEvery > 0 && o.step() % logEvery == 0) {
            long now = System.nanoTime();
            double perSecond = samplesSinceLog / Math.max(1e-9, (now - nanosAtLog) * 1e-9);
            LOG.info(String.format("step %d  loss %.5f  %.0f samples/s  scale %s  skipped %d", o.step(), value,
                    perSecond, o.nextScale(), amp.lossScaling().scaler().state().skippedSteps()));
            samplesSinceLog = 0;
            nanosAtLog = now;
        }
        return new StepResult(o.step(), value, o.scale(), o.skipped(), o.gradNorm(), o.learningRate(),
                o.atMinimumScale(), o.gradientStats());
    }

    private static void checkBatch(String op, Tensor inputs, int[] labels) {
        if (inputs.dim() < 1 || inputs.size(0) != labels.length) {
            throw new IllegalArgumentException(op + ": inputs of shape " + Arrays.toString(inputs.shape()) + " for "
                    + labels.length + " labels; the first dimension must be the number of labels");
        }
        if (labels.length == 0) {
            throw new IllegalArgumentException(op + ": empty batch");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException(op + ": label " + labels[i] + " of sample " + i + " is negative");
            }
        }
        if (!inputs.allFinite()) {
            throw new IllegalArgumentException(op + ": inputs hold NaN or infinite values");
        }
    }

    private static void checkLabels(String op, Tensor out, int[] labels) {
        if (out.dim() == 2) {
            int classes = out.size(1);
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] >= classes) {
                    throw new IllegalArgumentException(op + ": label " + labels[i] + " of sample " + i
                            + " is outside [0, " + classes + ") of the model's outputs");
                }
            }
        }
    }

    /** {@link #evaluate(Dataset, int)} with batches of 256. */
    public Evaluation evaluate(Dataset data) {
        return evaluate(data, EVAL_BATCH);
    }

    /**
     * Accuracy and mean loss over {@code data}, in eval mode and without recording gradients;
     * the model's previous mode is restored afterwards. Inputs are converted to the model's dtype.
     *
     * @throws IllegalArgumentException if {@code batchSize < 1} or the dataset is empty
     */
    public Evaluation evaluate(Dataset data, int batchSize) {
        Objects.requireNonNull(data, "Trainer.evaluate: data is null");
        if (batchSize < 1) {
            throw new IllegalArgumentException("Trainer.evaluate: batchSize must be >= 1, got " + batchSize);
        }
        if (data.size() == 0) {
            throw new IllegalArgumentException("Trainer.evaluate: the dataset is empty");
        }
        boolean wasTraining = model.isTraining();
        model.eval();
        double lossSum = 0;
        long correct = 0;
        try (NoGrad scope = NoGrad.enter()) {
            for (Batch b : data.batches(batchSize)) {
                Tensor out = model.forward(Tensor.of(b.features(), b.inputShape()).to(precision.modelDtype()));
                checkLabels("Trainer.evaluate", out, b.labels());
                lossSum += (double) loss.apply(out, b.labels()).item() * b.size();
                correct += countCorrect(out, b.labels());
            }
        } finally {
            if (wasTraining) {
                model.train();
            }
        }
        return new Evaluation((double) correct / data.size(), lossSum / data.size(), data.size());
    }

    /** Rows of {@code out} whose first largest value is at the label. */
    private static long countCorrect(Tensor out, int[] labels) {
        float[] v = out.toFloatArray();
        int classes = v.length / labels.length;
        long correct = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (v[i * classes + c] > v[i * classes + best]) {
                    best = c;
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return correct;
    }

    /**
     * Writes a full checkpoint to {@code file} (safetensors, replaced atomically): tensors
     * {@code model.<name>} (parameters in their dtype, buffers FP32), {@code optim.master.<name>},
     * {@code optim.state.<name>.<state>}; metadata {@code format}, {@code precision},
     * {@code rng.state}, {@code optim.appliedSteps}, {@code optim.attemptedSteps},
     * {@code optim.scaler.*}, {@code optim.optimizer}.
     */
    public void save(Path file) throws IOException {
        Objects.requireNonNull(file, "Trainer.save: file is null");
        List<NamedTensor> tensors = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", CHECKPOINT_FORMAT);
        meta.put("precision", precision.name());
        meta.put("rng.state", Long.toString(random.state()));
        Map<String, Tensor> state = new LinkedHashMap<>();
        Checkpoints.stateDict(model).forEach((n, t) -> state.put(MODEL + n, t));
        tensors.addAll(Checkpoints.toNamedTensors(state));
        amp.writeState(OPTIM, tensors, meta);
        Safetensors.write(file, tensors, meta);
    }

    /**
     * Restores a checkpoint written by {@link #save} into this trainer, whose model must have the
     * same structure and whose precision must be the same. Nothing changes when the file does not
     * match.
     *
     * @throws IOException              if the file cannot be read or is not a safetensors file
     * @throws IllegalArgumentException if it is not a trainer checkpoint, or does not match this
     *                                  trainer (precision, names, dtypes, shapes)
     */
    public void restore(Path file) throws IOException {
        Objects.requireNonNull(file, "Trainer.restore: file is null");
        SafetensorsFile f = Safetensors.read(file);
        Map<String, String> meta = f.metadata();
        if (!CHECKPOINT_FORMAT.equals(meta.get("format"))) {
            throw new IllegalArgumentException("Trainer.restore: " + file + " is not a trainer checkpoint (format '"
                    + meta.get("format") + "', expected '" + CHECKPOINT_FORMAT + "')");
        }
        if (!precision.name().equals(meta.get("precision"))) {
            throw new IllegalArgumentException("Trainer.restore: checkpoint precision " + meta.get("precision")
                    + " differs from this trainer's " + precision);
        }
        long rng;
        try {
            rng = Long.parseLong(String.valueOf(meta.get("rng.state")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Trainer.restore: rng.state is missing or not a long: "
                    + meta.get("rng.state"), e);
        }
        // Check the model part first, so that nothing changes unless every part fits.
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            check(f.tensor(MODEL + e.getKey()), e.getValue().value());
        }
        for (Map.Entry<String, Buffer> e : model.namedBuffers().entrySet()) {
            check(f.tensor(MODEL + e.getKey()), e.getValue().value());
        }
        List<NamedTensor> modelTensors = new ArrayList<>();
        for (NamedTensor t : f.tensors()) {
            if (t.name().startsWith(MODEL)) {
                modelTensors.add(new NamedTensor(t.name().substring(MODEL.length()), t.dtype(), t.shape(), t.floats(),
                        t.bits()));
            }
        }
        Map<String, Tensor> state = Checkpoints.toTensors(modelTensors);
        amp.readState(OPTIM, f);                              // checks its part, then restores it
        Checkpoints.loadStateDict(model, state);              // copies into the existing storage
        random.setState(rng);
    }

    private static void check(NamedTensor t, Tensor target) {
        if (t.dtype() != target.dtype() || !Arrays.equals(t.shape(), target.shape())) {
            throw new IllegalArgumentException("Trainer.restore: tensor '" + t.name() + "' is " + t.dtype()
                    + Arrays.toString(t.shape()) + ", the model has " + target.dtype() + Arrays.toString(target.shape()));
        }
    }

    @Override
    public String toString() {
        return "Trainer[model=" + model.getClass().getSimpleName() + ", " + amp + ", loss=" + loss + ", logEvery="
                + logEvery + ", random=" + random + "]";
    }

    /** Settings of a {@link Trainer}; {@link #build()} checks the required ones. */
    public static final class Builder {
        private final Module model;
        private Precision precision = Precision.FP32;
        private Optimizer optimizer;
        private LossScaler scaler;
        private Loss<int[]> loss;
        private LearningRateSchedule schedule;
        private double clipNorm;
        private boolean collectStats;
        private int logEvery = DEFAULT_LOG_EVERY;
        private SplitMix64 random;

        /** Default logging interval in steps. */
        static final int DEFAULT_LOG_EVERY = 100;

        private Builder(Module model) {
            this.model = model;
        }

        /** The precision (default {@link Precision#FP32}). */
        public Builder precision(Precision p) {
            precision = Objects.requireNonNull(p, "Trainer.Builder.precision: precision is null");
            return this;
        }

        /** The optimizer (required). */
        public Builder optimizer(Optimizer o) {
            optimizer = Objects.requireNonNull(o, "Trainer.Builder.optimizer: optimizer is null");
            return this;
        }

        /** The loss scaler (default {@link Precision#defaultScaler()}). */
        public Builder lossScaler(LossScaler s) {
            scaler = Objects.requireNonNull(s, "Trainer.Builder.lossScaler: scaler is null");
            return this;
        }

        /** The loss of the model's output and the labels (required), e.g. {@code Losses::crossEntropy}. */
        public Builder loss(Loss<int[]> l) {
            loss = Objects.requireNonNull(l, "Trainer.Builder.loss: loss is null");
            return this;
        }

        /** A learning-rate schedule replacing the optimizer's own (it advances on applied steps only). */
        public Builder schedule(LearningRateSchedule s) {
            schedule = Objects.requireNonNull(s, "Trainer.Builder.schedule: schedule is null");
            return this;
        }

        /** Clips the unscaled gradients to global L2 norm {@code maxNorm}, finite and {@code > 0}. */
        public Builder clipGradNorm(double maxNorm) {
            if (!(maxNorm > 0) || !Double.isFinite(maxNorm)) {
                throw new IllegalArgumentException("Trainer.Builder.clipGradNorm: maxNorm must be finite and > 0, got "
                        + maxNorm);
            }
            clipNorm = maxNorm;
            return this;
        }

        /** Whether each {@link StepResult} carries per-parameter {@link GradientStats} (default false). */
        public Builder gradientStats(boolean on) {
            collectStats = on;
            return this;
        }

        /** Logs progress every {@code steps} steps; 0 turns logging off (default 100). */
        public Builder logEvery(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("Trainer.Builder.logEvery: steps must be >= 0, got " + steps);
            }
            logEvery = steps;
            return this;
        }

        /** The generator for shuffling and dropout, saved in checkpoints (default {@code SplitMix64.seeded(0)}). */
        public Builder random(SplitMix64 rng) {
            random = Objects.requireNonNull(rng, "Trainer.Builder.random: rng is null");
            return this;
        }

        /** Shorthand for {@code random(SplitMix64.seeded(seed))}. */
        public Builder seed(long seed) {
            random = SplitMix64.seeded(seed);
            return this;
        }

        /**
         * Checks the settings, converts the model to the precision's dtype and creates the
         * optimizer's FP32 masters and state.
         *
         * @throws IllegalStateException    if the optimizer or the loss is not set
         * @throws IllegalArgumentException if the precision does not scale the loss but a scaler
         *                                  with a scale other than 1 is set
         */
        public Trainer build() {
            if (optimizer == null) {
                throw new IllegalStateException("Trainer.Builder.build: no optimizer; call .optimizer(new Sgd(0.01, 0.9)) "
                        + "or another Optimizer");
            }
            if (loss == null) {
                throw new IllegalStateException("Trainer.Builder.build: no loss function; call .loss(Losses::crossEntropy) "
                        + "or another Loss<int[]>");
            }
            AmpOptimizer.checkScaler(precision, scaler, "Trainer.Builder.build");
            if (random == null) {
                random = SplitMix64.seeded(0);
            }
            var b = AmpOptimizer.builder(model, schedule == null ? optimizer : optimizer.withSchedule(schedule))
                    .precision(precision)
                    .collectGradientStats(collectStats);
            if (scaler != null) {
                b.lossScaler(scaler);
            }
            if (clipNorm > 0) {
                b.clipGradNorm(clipNorm);
            }
            return new Trainer(this, b.build());
        }
    }
}
