package dev.mpt.optim.train;

import dev.mpt.core.Tensor;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.nn.Module;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.loss.Loss;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.schedule.LearningRateSchedule;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Trains a classifier one batch at a time in a chosen {@link Precision}: forward pass in the
 * model's dtype, FP32 loss, scaled backward pass, and an {@link AmpOptimizer} step (unscale,
 * inf/NaN check, clipping, FP32 master update or skip). The builder's optimizer settings
 * (precision, optimizer, schedule, loss scaler, clipping, gradient statistics) are those of
 * {@link AmpOptimizer.Builder}, to which it hands them on.
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
 *         StepResult r = trainer.step(b);       // r.loss(), r.outcome().skipped(), ...
 *     }
 *     trainer.save(Path.of("run.safetensors"));          // everything needed to resume
 * }
 * Evaluation e = trainer.evaluate(test);
 * }</pre>
 *
 * <p>Checkpoints ({@link #save}, {@link #restore}) hold the model's parameters and buffers, the
 * FP32 masters, the optimizer state, the loss scaler's state, the step counters and the state of
 * {@link #random()} (layout: {@link OptimizerCheckpoint} and the class {@code TrainerCheckpoint});
 * a run restored from one continues bit for bit as the uninterrupted run would
 * have, provided it draws its batches from {@link #random()} in the same way. A
 * {@link dev.mpt.nn.data.Batches} iterator draws an epoch's permutation when it starts, so save
 * at epoch boundaries (or draw batches from {@link #random()} yourself). For dropout, create the
 * generator first and give it to both: {@code var rng = SplitMix64.seeded(7);}
 * {@code new Dropout(0.5, rng)} in the model and {@code .random(rng)} in the builder.
 *
 * <p>Progress is logged through SLF4J (logger {@code dev.mpt.optim.train.Trainer}, level INFO)
 * every {@code logEvery} steps: step, loss, samples per second, scale and skipped steps so far.
 */
public final class Trainer {

    /** The checkpoint format name, in the metadata key {@code format}. */
    public static final String CHECKPOINT_FORMAT = "mpt-trainer-checkpoint-1";

    /** Default evaluation batch size. */
    static final int EVAL_BATCH = 256;

    private final Module model;
    private final AmpOptimizer amp;
    private final Loss<int[]> loss;
    private final SplitMix64 random;
    private final ProgressLog progress;

    private Trainer(Builder b, AmpOptimizer amp) {
        this.model = b.model;
        this.amp = amp;
        this.loss = b.loss;
        this.random = b.random;
        this.progress = new ProgressLog(b.logEvery);
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
        return amp.precision();
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
     * the loss, the scaled backward pass and the optimizer step (or skip; a skipped step leaves
     * the weights, optimizer state and the model's buffers, such as BatchNorm's running
     * statistics, as they were).
     *
     * @param inputs one row (first dimension) per sample, any dtype, finite
     * @param labels one class index per sample, {@code >= 0}
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if the sizes disagree, a label is negative or not below the
     *                                  model's number of outputs, or an input is NaN or infinite, in
     *                                  FP32 or once converted to the model's dtype (FP16 overflows
     *                                  at 65520); nothing changes then
     */
    public StepResult step(Tensor inputs, int[] labels) {
        Objects.requireNonNull(inputs, "Trainer.step: inputs is null");
        Objects.requireNonNull(labels, "Trainer.step: labels is null");
        BatchChecks.batch("Trainer.step", inputs, labels);
        Tensor converted = BatchChecks.toModelDtype("Trainer.step", inputs, amp.precision().modelDtype());
        amp.zeroGrad();
        Tensor out = model.forward(converted);
        BatchChecks.labels("Trainer.step", out, labels);
        Tensor l = loss.apply(out, labels);
        if (l == null || l.numel() != 1) {
            throw new IllegalStateException("Trainer.step: the loss function returned "
                    + (l == null ? "null" : "shape " + Arrays.toString(l.shape())) + "; it must return one element");
        }
        double value = l.item();
        amp.scale(l).backward();
        StepOutcome o = amp.step();
        progress.afterStep(o, labels.length, value, amp.scaleHolder().scaler().state().skippedSteps());
        return new StepResult(value, o);
    }

    /** {@link #evaluate(Dataset, int)} with batches of 256. */
    public Evaluation evaluate(Dataset data) {
        return evaluate(data, EVAL_BATCH);
    }

    /**
     * Accuracy and mean loss over {@code data}, in eval mode and without recording gradients;
     * the model's previous mode is restored afterwards. Inputs are converted to the model's dtype.
     *
     * @throws IllegalArgumentException if {@code batchSize < 1}, the dataset is empty, or a finite
     *                                  input becomes infinite in the model's dtype
     */
    public Evaluation evaluate(Dataset data, int batchSize) {
        Objects.requireNonNull(data, "Trainer.evaluate: data is null");
        if (batchSize < 1) {
            throw new IllegalArgumentException("Trainer.evaluate: batchSize must be >= 1, got " + batchSize);
        }
        if (data.size() == 0) {
            throw new IllegalArgumentException("Trainer.evaluate: the dataset is empty");
        }
        return Evaluator.evaluate(model, loss, amp.precision().modelDtype(), data, batchSize);
    }

    /**
     * Writes a full checkpoint to {@code file} (safetensors, replaced atomically): the model's
     * parameters and buffers, the optimizer's {@link dev.mpt.optim.amp.AmpState} and the state of
     * {@link #random()}.
     */
    public void save(Path file) throws IOException {
        Objects.requireNonNull(file, "Trainer.save: file is null");
        TrainerCheckpoint.write(this, file);
    }

    /**
     * Restores a checkpoint written by {@link #save} into this trainer, whose model must have the
     * same structure and whose precision must be the same. The whole file is checked against the
     * whole trainer (the model's names, dtypes and shapes, with no tensor left over; the masters,
     * optimizer state, counters and scaler) before any part changes, so a refused file leaves the
     * trainer exactly as it was.
     *
     * @throws IOException              if the file cannot be read or is not a safetensors file
     * @throws IllegalArgumentException if it is not a trainer checkpoint, or does not match this
     *                                  trainer (precision, names, dtypes, shapes, extra tensors)
     */
    public void restore(Path file) throws IOException {
        Objects.requireNonNull(file, "Trainer.restore: file is null");
        TrainerCheckpoint.read(this, file);
    }

    @Override
    public String toString() {
        return "Trainer[model=" + model.getClass().getSimpleName() + ", " + amp + ", loss=" + loss + ", logEvery="
                + progress.every() + ", random=" + random + "]";
    }

    /**
     * Settings of a {@link Trainer}: the loop's own (loss, logging, random generator) and, handed
     * on to one {@link AmpOptimizer.Builder}, the optimizer's; {@link #build()} checks the
     * required ones.
     */
    public static final class Builder {
        /** Default logging interval in steps. */
        static final int DEFAULT_LOG_EVERY = 100;

        private final Module model;
        private final AmpOptimizer.Builder amp;
        private Loss<int[]> loss;
        private int logEvery = DEFAULT_LOG_EVERY;
        private SplitMix64 random;

        private Builder(Module model) {
            this.model = model;
            this.amp = AmpOptimizer.builder(model);
        }

        /** The precision (default {@link Precision#FP32}); see {@link AmpOptimizer.Builder#precision}. */
        public Builder precision(Precision p) {
            amp.precision(p);
            return this;
        }

        /** The optimizer (required); see {@link AmpOptimizer.Builder#optimizer}. */
        public Builder optimizer(Optimizer o) {
            amp.optimizer(o);
            return this;
        }

        /** The loss scaler (default {@link Precision#defaultScaler()}); see {@link AmpOptimizer.Builder#lossScaler}. */
        public Builder lossScaler(LossScaler s) {
            amp.lossScaler(s);
            return this;
        }

        /** A schedule replacing the optimizer's own; see {@link AmpOptimizer.Builder#schedule}. */
        public Builder schedule(LearningRateSchedule s) {
            amp.schedule(s);
            return this;
        }

        /** Gradient clipping by global norm; see {@link AmpOptimizer.Builder#clipGradNorm}. */
        public Builder clipGradNorm(double maxNorm) {
            amp.clipGradNorm(maxNorm);
            return this;
        }

        /**
         * Whether each {@link StepResult} carries per-parameter gradient statistics (default
         * false); see {@link AmpOptimizer.Builder#collectGradientStats}.
         */
        public Builder collectGradientStats(boolean on) {
            amp.collectGradientStats(on);
            return this;
        }

        /** The loss of the model's output and the labels (required), e.g. {@code Losses::crossEntropy}. */
        public Builder loss(Loss<int[]> l) {
            loss = Objects.requireNonNull(l, "Trainer.Builder.loss: loss is null");
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
         * Checks the settings, then builds the {@link AmpOptimizer} (which converts the model to the
         * precision's dtype and creates the FP32 masters and optimizer state).
         *
         * @throws IllegalStateException    if the loss or the optimizer is not set
         * @throws IllegalArgumentException if {@link AmpOptimizer.Builder#build()} refuses the
         *                                  optimizer settings (e.g. a scaler the precision does not
         *                                  allow)
         */
        public Trainer build() {
            if (loss == null) {
                throw new IllegalStateException("Trainer.Builder.build: no loss function; call .loss(Losses::crossEntropy) "
                        + "or another Loss<int[]>");
            }
            if (random == null) {
                random = SplitMix64.seeded(0);
            }
            return new Trainer(this, amp.build());
        }
    }
}
