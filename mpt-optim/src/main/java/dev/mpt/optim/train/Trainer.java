package dev.mpt.optim.train;

import dev.mpt.core.Tensor;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.TargetBatch;
import dev.mpt.nn.data.TargetDataset;
import dev.mpt.nn.loss.Loss;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.schedule.LearningRateSchedule;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Trains a model one batch at a time in a chosen {@link Precision}: forward pass in the model's
 * dtype, FP32 loss, scaled backward pass, and an {@link AmpOptimizer} step (unscale, inf/NaN check,
 * clipping, FP32 master update or skip). The builder's optimizer settings (precision, optimizer,
 * schedule, loss scaler, clipping, gradient statistics) are those of {@link AmpOptimizer.Builder},
 * to which it hands them on.
 *
 * <pre>{@code
 * var trainer = Trainer.builder(model)
 *         .precision(Precision.MIXED_FP16)
 *         .optimizer(new Sgd(0.01, 0.9))
 *         .lossScaler(LossScaler.dynamic())
 *         .loss(Losses::crossEntropy)
 *         .logEvery(100)
 *         .build();
 * History h = trainer.fit(train, validation, FitOptions.of(10).batchSize(128)
 *         .callbacks(new EarlyStopping(Metric.VAL_LOSS, 3),
 *                    new BestCheckpoint(Path.of("best.safetensors"), Metric.VAL_ACCURACY, true)));
 * h.writeCsv(Path.of("history.csv"));
 * Evaluation e = trainer.evaluate(test);
 * }</pre>
 *
 * <p>{@link #fit} is the epoch loop; {@link #step} is one step for loops of one's own:
 * {@code for (Batch b : train.batches(128, trainer.random())) trainer.step(b);}.
 *
 * <p><b>Targets.</b> A trainer trains on class labels ({@link Dataset}, {@link Batch},
 * {@code int[]}) with the loss set by {@link Builder#loss} (a {@code Loss<int[]>}, e.g.
 * {@code Losses::crossEntropy}), and on float targets ({@link TargetDataset}, {@link TargetBatch},
 * a {@link Tensor}: regression, multi-hot labels) with the loss set by {@link Builder#targetLoss}
 * (a {@code Loss<Tensor>}, e.g. {@code Losses::mse} or {@code Losses::bceWithLogits}); either or
 * both may be set. Why two typed losses rather than a type parameter {@code Trainer<T>}: mpt's data
 * come in exactly these two batch types, and a {@code Loss<int[]>} or a {@code Loss<Tensor>} covers
 * every loss over them, built-in or custom; a type parameter would still need an adapter from each
 * batch type to {@code T}, and would change every {@code Trainer} declaration in existing code.
 * Evaluation has an accuracy for class labels only.
 *
 * <p><b>Checks.</b> {@link #fit} checks before its first step that the data are not empty, that
 * validation data are shaped as the training data, and that the model's output for one sample
 * (run in eval mode, without a graph) fits the targets: {@code [1, numClasses]} for a
 * {@link Dataset} (a 10-way model on 5 classes is refused, naming both numbers), {@code [1,
 * targetShape...]} for a {@link TargetDataset}. {@link #evaluate} checks every batch's output the
 * same way.
 *
 * <p><b>Parameter groups.</b> {@link Builder#group} hands groups on to the {@link AmpOptimizer}
 * (PyTorch's {@code param_groups}: e.g. AdamW with weight decay on a {@link dev.mpt.nn.Gpt}'s
 * weight matrices only, {@link dev.mpt.nn.Gpt#decayGroups()}); checkpoints record each
 * parameter's group and restore only into a trainer with the same groups.
 *
 * <p><b>Learning rate.</b> The optimizer's rate is its schedule (or the builder's) times the
 * trainer's {@link #learningRateFactor()}, 1 unless changed ({@link ReduceLROnPlateau} lowers it);
 * with parameter groups each group's schedule is multiplied by the same factor:
 * the factor lives in the trainer rather than in {@link AmpOptimizer}, which keeps the schedule a
 * pure function of the step.
 *
 * <p>Checkpoints ({@link #save}, {@link #restore}) hold the model's parameters and buffers, the
 * FP32 masters, the optimizer state, the loss scaler's state, the step counters, the
 * learning-rate factor and the state of {@link #random()} (layout: {@link OptimizerCheckpoint}
 * and the class {@code TrainerCheckpoint}); a run restored from one continues bit for bit as the
 * uninterrupted run would have, provided it draws its batches from {@link #random()} in the same
 * way. A {@link dev.mpt.nn.data.Batches} iterator draws an epoch's permutation when it starts, so
 * save at epoch boundaries (or draw batches from {@link #random()} yourself). For dropout, create
 * the generator first and give it to both: {@code var rng = SplitMix64.seeded(7);}
 * {@code new Dropout(0.5, rng)} in the model and {@code .random(rng)} in the builder.
 *
 * <p>Progress is logged through SLF4J (logger {@code dev.mpt.optim.train.Trainer}, level INFO)
 * every {@code logEvery} steps: loss, samples per second, scale and skipped steps so far; within
 * {@link #fit} also the epoch, the step within it and the time remaining, and a line after each
 * epoch with its {@link EpochMetrics}.
 */
public final class Trainer {

    /** The checkpoint format name, in the metadata key {@code format}. */
    public static final String CHECKPOINT_FORMAT = "mpt-trainer-checkpoint-1";

    /** Default evaluation batch size. */
    static final int EVAL_BATCH = 256;

    private final Module model;
    private final AmpOptimizer amp;
    private final Loss<int[]> loss;
    private final Loss<Tensor> targetLoss;
    private final LearningRateFactor lrFactor;
    private final SplitMix64 random;
    private final ProgressLog progress;

    private Trainer(Builder b, AmpOptimizer amp, LearningRateFactor lrFactor) {
        this.model = b.model;
        this.amp = amp;
        this.loss = b.loss;
        this.targetLoss = b.targetLoss;
        this.lrFactor = lrFactor;
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

    /**
     * The learning rate the next applied step will use: the schedule's rate times
     * {@link #learningRateFactor()} (with parameter groups, the first group's; each group's is
     * {@code optimizer().learningRate(name)}).
     */
    public double learningRate() {
        return amp.learningRate();
    }

    /** The schedule's rate for the next applied step, without the factor (the first group's). */
    double baseLearningRate() {
        return LearningRateFactor.baseAt(amp.groups().get(0).optimizer().schedule(), amp.appliedSteps());
    }

    /**
     * The factor on the optimizer's learning-rate schedule (on every parameter group's), 1 unless
     * changed (saved in checkpoints).
     */
    public double learningRateFactor() {
        return lrFactor.factor();
    }

    /**
     * Sets the factor on the optimizer's learning-rate schedule, from the next step on (what
     * {@link ReduceLROnPlateau} calls; PyTorch's equivalent is writing {@code param_group["lr"]}).
     *
     * @param factor finite and {@code > 0}
     * @throws IllegalArgumentException if {@code factor} is not finite or not positive
     */
    public void setLearningRateFactor(double factor) {
        if (!(factor > 0) || !Double.isFinite(factor)) {
            throw new IllegalArgumentException("Trainer.setLearningRateFactor: factor must be finite and > 0, got "
                    + factor);
        }
        lrFactor.setFactor(factor);
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
     * @throws IllegalStateException    if the trainer has no loss for class labels
     * @throws IllegalArgumentException if the sizes disagree, a label is negative or not below the
     *                                  model's number of outputs, or an input is NaN or infinite, in
     *                                  FP32 or once converted to the model's dtype (FP16 overflows
     *                                  at 65520); nothing changes then
     */
    public StepResult step(Tensor inputs, int[] labels) {
        Objects.requireNonNull(inputs, "Trainer.step: inputs is null");
        Objects.requireNonNull(labels, "Trainer.step: labels is null");
        Loss<int[]> l = labelLoss("Trainer.step");
        BatchChecks.batch("Trainer.step", inputs, labels);
        return step(inputs, labels.length, out -> {
            BatchChecks.labels("Trainer.step", out, labels);
            return l.apply(out, labels);
        });
    }

    /** One training step on a batch of float targets ({@link #step(Tensor, Tensor)}). */
    public StepResult step(TargetBatch batch) {
        Objects.requireNonNull(batch, "Trainer.step: batch is null");
        return step(batch.inputs(), batch.targets());
    }

    /**
     * One training step against float targets with the {@link Builder#targetLoss} (regression,
     * multi-hot labels); otherwise as {@link #step(Tensor, int[])}.
     *
     * @param inputs  one row (first dimension) per sample, any dtype, finite
     * @param targets one row per sample, finite, shaped as the loss needs (the model's output shape
     *                for {@code mse} and {@code bceWithLogits})
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if the trainer has no loss for float targets
     * @throws IllegalArgumentException if the row counts disagree, the batch is empty, or a value
     *                                  is NaN or infinite (an input also once converted to the
     *                                  model's dtype)
     */
    public StepResult step(Tensor inputs, Tensor targets) {
        Objects.requireNonNull(inputs, "Trainer.step: inputs is null");
        Objects.requireNonNull(targets, "Trainer.step: targets is null");
        Loss<Tensor> l = targetLoss("Trainer.step");
        BatchChecks.batch("Trainer.step", inputs, targets);
        return step(inputs, inputs.size(0), out -> l.apply(out, targets));
    }

    /** The step shared by both target kinds: {@code lossOf} checks the output and computes the loss. */
    private StepResult step(Tensor inputs, int samples, Function<Tensor, Tensor> lossOf) {
        Tensor converted = BatchChecks.toModelDtype("Trainer.step", inputs, amp.precision().modelDtype());
        amp.zeroGrad();
        Tensor out = model.forward(converted);
        Tensor l = lossOf.apply(out);
        if (l == null || l.numel() != 1) {
            throw new IllegalStateException("Trainer.step: the loss function returned "
                    + (l == null ? "null" : "shape " + Arrays.toString(l.shape())) + "; it must return one element");
        }
        double value = l.item();
        amp.scale(l).backward();
        StepOutcome o = amp.step();
        progress.afterStep(o, samples, value, amp.scaleHolder().scaler().state().skippedSteps());
        return new StepResult(value, o);
    }

    private Loss<int[]> labelLoss(String op) {
        if (loss == null) {
            throw new IllegalStateException(op + ": this trainer has no loss for class labels; set one with "
                    + ".loss(Losses::crossEntropy) in its builder (it has .targetLoss for float targets)");
        }
        return loss;
    }

    private Loss<Tensor> targetLoss(String op) {
        if (targetLoss == null) {
            throw new IllegalStateException(op + ": this trainer has no loss for float targets; set one with "
                    + ".targetLoss(Losses::mse) or .targetLoss(Losses::bceWithLogits) in its builder");
        }
        return targetLoss;
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
        return Evaluator.evaluate(model, labelLoss("Trainer.evaluate"), amp.precision().modelDtype(), data,
                batchSize);
    }

    /** {@link #evaluate(TargetDataset, int)} with batches of 256. */
    public Evaluation evaluate(TargetDataset data) {
        return evaluate(data, EVAL_BATCH);
    }

    /**
     * The mean {@link Builder#targetLoss} over {@code data} (the accuracy is NaN), in eval mode and
     * without recording gradients, as {@link #evaluate(Dataset, int)}.
     *
     * @throws IllegalStateException    if the trainer has no loss for float targets
     * @throws IllegalArgumentException if {@code batchSize < 1}, the dataset is empty, the model's
     *                                  output is not shaped as the targets, or a finite input becomes
     *                                  infinite in the model's dtype
     */
    public Evaluation evaluate(TargetDataset data, int batchSize) {
        Objects.requireNonNull(data, "Trainer.evaluate: data is null");
        if (batchSize < 1) {
            throw new IllegalArgumentException("Trainer.evaluate: batchSize must be >= 1, got " + batchSize);
        }
        if (data.size() == 0) {
            throw new IllegalArgumentException("Trainer.evaluate: the dataset is empty");
        }
        return Evaluator.evaluate(model, targetLoss("Trainer.evaluate"), amp.precision().modelDtype(), data,
                batchSize);
    }

    /** {@link #fit(Dataset, Dataset, FitOptions)} without validation data, with default options. */
    public History fit(Dataset train, int epochs) {
        return fit(train, null, FitOptions.of(epochs));
    }

    /** {@link #fit(Dataset, Dataset, FitOptions)} with default options ({@link FitOptions#of}). */
    public History fit(Dataset train, int epochs, Dataset validation) {
        Objects.requireNonNull(validation, "Trainer.fit: validation is null (use fit(train, epochs) without it)");
        return fit(train, validation, FitOptions.of(epochs));
    }

    /**
     * Trains on class labels for {@code options.epochs()} epochs, or until a callback stops it:
     * each epoch steps once per batch of {@code train} (shuffled by {@link #random()} unless turned
     * off), then evaluates {@code validation}, records an {@link EpochMetrics}, logs it and runs the
     * callbacks. Everything is checked before the first step (see the class doc).
     *
     * @param validation the data evaluated after each epoch, or null for none
     * @return the epochs that ran
     * @throws NullPointerException     if {@code train} or {@code options} is null
     * @throws IllegalStateException    if the trainer has no loss for class labels
     * @throws IllegalArgumentException if a dataset is empty, the validation data has another
     *                                  featureShape or number of classes, the model's output width is
     *                                  not the number of classes, or a callback refuses the fit (e.g.
     *                                  it monitors val_loss without validation data)
     */
    public History fit(Dataset train, Dataset validation, FitOptions options) {
        Objects.requireNonNull(train, "Trainer.fit: train is null");
        Objects.requireNonNull(options, "Trainer.fit: options is null");
        labelLoss("Trainer.fit");
        return FitLoop.run(this, progress, new FitData.Labels(train),
                validation == null ? null : new FitData.Labels(validation), options);
    }

    /** {@link #fit(TargetDataset, TargetDataset, FitOptions)} without validation data, with default options. */
    public History fit(TargetDataset train, int epochs) {
        return fit(train, null, FitOptions.of(epochs));
    }

    /** {@link #fit(TargetDataset, TargetDataset, FitOptions)} with default options ({@link FitOptions#of}). */
    public History fit(TargetDataset train, int epochs, TargetDataset validation) {
        Objects.requireNonNull(validation, "Trainer.fit: validation is null (use fit(train, epochs) without it)");
        return fit(train, validation, FitOptions.of(epochs));
    }

    /**
     * As {@link #fit(Dataset, Dataset, FitOptions)}, on float targets with the
     * {@link Builder#targetLoss}; the model's output for one sample must have the shape
     * {@code [1, targetShape...]}, and the history has no accuracy.
     */
    public History fit(TargetDataset train, TargetDataset validation, FitOptions options) {
        Objects.requireNonNull(train, "Trainer.fit: train is null");
        Objects.requireNonNull(options, "Trainer.fit: options is null");
        targetLoss("Trainer.fit");
        return FitLoop.run(this, progress, new FitData.Targets(train),
                validation == null ? null : new FitData.Targets(validation), options);
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
        return "Trainer[model=" + model.getClass().getSimpleName() + ", " + amp + ", loss=" + loss + ", targetLoss="
                + targetLoss + ", learningRateFactor=" + lrFactor.factor() + ", logEvery="
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
        private final List<Group> groups = new ArrayList<>();
        private boolean built;
        private Loss<int[]> loss;
        private Loss<Tensor> targetLoss;
        private Optimizer optimizer;
        private LearningRateSchedule schedule;
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

        /**
         * The optimizer: required unless {@link #group} calls place every parameter; with groups, the
         * optimizer of the parameters no group names. See {@link AmpOptimizer.Builder#optimizer}.
         */
        public Builder optimizer(Optimizer o) {
            optimizer = Objects.requireNonNull(o, "Trainer.Builder.optimizer: optimizer is null");
            return this;
        }

        /**
         * A parameter group updated by {@code o} (of the same class as every other group's
         * optimizer), as {@link AmpOptimizer.Builder#group}, which checks the groups in
         * {@link #build()}: for example the two AdamW groups of a {@link dev.mpt.nn.Gpt}:
         * <pre>{@code
         * var g = gpt.decayGroups();
         * Trainer.builder(gpt).group("decay", g.get(true), new AdamW(1e-3, 0.9, 0.99, 1e-8, 0.1))
         *                     .group("no_decay", g.get(false), new AdamW(1e-3, 0.9, 0.99, 1e-8, 0))
         * }</pre>
         * Each group's schedule is multiplied by the trainer's {@link Trainer#learningRateFactor()};
         * {@link #schedule} replaces every group's.
         */
        public Builder group(String name, Map<String, Parameter> params, Optimizer o) {
            Objects.requireNonNull(name, "Trainer.Builder.group: name is null");
            Objects.requireNonNull(params, () -> "Trainer.Builder.group: parameters of group '" + name + "' are null");
            Objects.requireNonNull(o, () -> "Trainer.Builder.group: optimizer of group '" + name + "' is null");
            groups.add(new Group(name, new LinkedHashMap<>(params), o));
            return this;
        }

        /** The loss scaler (default {@link Precision#defaultScaler()}); see {@link AmpOptimizer.Builder#lossScaler}. */
        public Builder lossScaler(LossScaler s) {
            amp.lossScaler(s);
            return this;
        }

        /** A schedule replacing the optimizer's own, in every group; see {@link AmpOptimizer.Builder#schedule}. */
        public Builder schedule(LearningRateSchedule s) {
            schedule = Objects.requireNonNull(s, "Trainer.Builder.schedule: schedule is null");
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

        /**
         * The loss of the model's output and class labels, e.g. {@code Losses::crossEntropy}: needed
         * to train on a {@link Dataset} or {@link Batch}.
         */
        public Builder loss(Loss<int[]> l) {
            loss = Objects.requireNonNull(l, "Trainer.Builder.loss: loss is null");
            return this;
        }

        /**
         * The loss of the model's output and float targets, e.g. {@code Losses::mse} (regression) or
         * {@code Losses::bceWithLogits} (multi-hot labels): needed to train on a
         * {@link TargetDataset} or {@link TargetBatch}.
         */
        public Builder targetLoss(Loss<Tensor> l) {
            targetLoss = Objects.requireNonNull(l, "Trainer.Builder.targetLoss: loss is null");
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
         * @throws IllegalStateException    if no loss ({@link #loss} or {@link #targetLoss}) or no
         *                                  optimizer and no group is set, or this builder already
         *                                  built a trainer
         * @throws IllegalArgumentException if {@link AmpOptimizer.Builder#build()} refuses the
         *                                  optimizer settings (e.g. a scaler the precision does not
         *                                  allow, a parameter in two groups)
         */
        public Trainer build() {
            if (built) {
                throw new IllegalStateException("Trainer.Builder.build: this builder already built a trainer; use a new "
                        + "Trainer.builder(model) for another");
            }
            if (loss == null && targetLoss == null) {
                throw new IllegalStateException("Trainer.Builder.build: no loss function; call .loss(Losses::crossEntropy) "
                        + "(a Loss<int[]>, for class labels) or .targetLoss(Losses::mse) (a Loss<Tensor>, for float "
                        + "targets)");
            }
            if (random == null) {
                random = SplitMix64.seeded(0);
            }
            built = true;                           // the groups below go into amp once
            LearningRateFactor factor = new LearningRateFactor();
            if (schedule != null) {
                amp.schedule(factor.times(schedule));           // replaces every group's
            }
            if (optimizer != null) {                // without one and without groups, amp.build() says so
                amp.optimizer(schedule != null ? optimizer : optimizer.withSchedule(factor.times(optimizer.schedule())));
            }
            for (Group g : groups) {
                amp.group(g.name(), g.params(), schedule != null ? g.optimizer()
                        : g.optimizer().withSchedule(factor.times(g.optimizer().schedule())));
            }
            return new Trainer(this, amp.build(), factor);
        }

        /** A group as {@link #group} received it. */
        private record Group(String name, Map<String, Parameter> params, Optimizer optimizer) {
        }
    }
}
