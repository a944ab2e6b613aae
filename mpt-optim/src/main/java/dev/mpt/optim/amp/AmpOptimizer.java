package dev.mpt.optim.amp;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Buffer;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.optim.GradientClipping;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.scaling.FixedLossScaler;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.scaling.ScaleDecision;
import dev.mpt.optim.schedule.LearningRateSchedule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mixed-precision optimizer for custom training loops: it owns the FP32 master weights
 * ({@link MasterWeights}), the optimizer state and the loss scale (Micikevicius et al., ICLR 2018,
 * Figure 1). One iteration:
 *
 * <pre>{@code
 * var opt = AmpOptimizer.builder(model, new Sgd(0.01, 0.9))
 *         .precision(Precision.MIXED_FP16)            // converts the model to FP16
 *         .build();
 * for (Batch b : batches) {
 *     opt.zeroGrad();
 *     Tensor loss = Losses.crossEntropy(model.forward(inputs(b)), b.labels());
 *     opt.scale(loss).backward();                      // FP16 gradients of loss * scale
 *     StepOutcome o = opt.step();                       // unscale + check + clip + update, or skip
 * }
 * }</pre>
 *
 * <p>Why buffers are put back rather than updated later: a training-mode forward folds its
 * batch into the running statistics before anyone can know that the step will overflow (an input
 * finite in FP32 but infinite in FP16 writes inf/NaN there), and in a custom loop the forward runs
 * outside the optimizer's reach. Staging the statistics in the layers until the optimizer commits
 * them would couple every layer with buffers to the optimizer and change what a forward without
 * a step means; a copy of the (small) buffers taken at {@code zeroGrad()}, the start of every
 * step in both the trainer and the loop above, works for any module and any loop. The buffers
 * covered are those of the model the builder was given ({@link Builder#buffers(Module)} for an
 * optimizer built from parameters); in a GAN each optimizer puts back its own model's.
 *
 * <p>Gradient accumulation: call {@code scale(loss_i).backward()} for each micro-batch (dividing
 * each loss by the number of micro-batches for a mean), then one {@code step()}. The scale stays
 * the same until the step.
 *
 * <p>{@link #step()}: divides the gradients by the scale into FP32 and checks them for inf/NaN
 * in one pass; on overflow the step is skipped (weights, masters, optimizer state, step counts
 * and the learning-rate schedule stay as they were, and the model's buffers, BatchNorm's running
 * statistics, are put back to their values at the last {@link #zeroGrad()}), the scale backs off,
 * and {@link StepOutcome#skipped()} says so. Otherwise it clips by global norm when asked (on the unscaled gradients), applies the
 * optimizer's rule to the FP32 masters, and rounds them into the model's 16-bit weights. When
 * that rounding overflows (a master of magnitude 65520 or more becomes an FP16 infinity), the
 * step is still applied, but {@link StepOutcome#overflowedWeights()} names the parameters and a
 * warning is logged (logger {@code dev.mpt.optim.amp.AmpOptimizer}).
 *
 * <p>When the loss is not scaled (precision {@link Precision#FP32}, {@link Precision#MIXED_BF16}
 * or {@link Precision#FP16_NO_SCALING} with their default fixed scale of 1), a plain
 * {@code loss.backward()} may replace {@code scale(loss).backward()}, so this class is also the
 * plain FP32 optimizer: {@code loss.backward(); opt.step(); opt.zeroGrad();}.
 *
 * <p>The order of calls is checked, as PyTorch's GradScaler does: {@code step()} needs a
 * {@code scale(loss).backward()} since the last {@code zeroGrad()} (or, at a fixed scale of 1,
 * any backward), may run once per backward round, and a new {@code scale()} after a
 * {@code step()} needs a {@code zeroGrad()} first;
 * each violation is an {@link IllegalStateException} that says what to do. Two optimizers (a GAN)
 * may share one scale: see {@link ScaleHolder}.
 *
 * <p>Parameter groups (PyTorch's {@code param_groups}): one optimizer may update its parameters
 * with several {@link Optimizer} values of one class, each a {@link ParamGroup} with its own
 * hyper-parameters and schedule, e.g. AdamW with weight decay on the weight matrices and without it
 * on biases, norms and embeddings:
 *
 * <pre>{@code
 * var opt = AmpOptimizer.builder(model, new AdamW(1e-3, 0.9, 0.99, 1e-8, 0.1))  // default group: the rest
 *         .group("no_decay", noDecay, new AdamW(1e-3, 0.9, 0.99, 1e-8, 0))
 *         .precision(Precision.MIXED_FP16)
 *         .build();
 * }</pre>
 * The groups share everything but the rule's numbers: one loss scale, one unscale and overflow
 * decision (an inf/NaN anywhere skips every group), one global norm for clipping over all
 * parameters, summed in the model's parameter order whatever the grouping (so any grouping with
 * equal optimizers steps bit for bit as one group), one {@link #state()} that records each
 * parameter's group. Each parameter belongs to exactly one group; those that no
 * {@link Builder#group} names go to the {@link ParamGroup#DEFAULT} group of the builder's
 * {@link Builder#optimizer}, and without one they are an error (see {@link Builder#group} for why).
 *
 * <p>{@link #state()} returns everything needed to resume as a value ({@link AmpState}) and
 * {@link #restore(AmpState)} takes it back; the file layout is
 * {@link dev.mpt.optim.train.OptimizerCheckpoint}'s.
 */
public final class AmpOptimizer {

    private static final Logger LOG = LoggerFactory.getLogger(AmpOptimizer.class);

    private enum Phase { CLEAN, SCALED, UNSCALED, STEPPED }

    private final Map<String, Parameter> params;
    private final List<ParamGroup> groups;
    private final Precision precision;
    private final ScaleHolder scaling;
    private final MasterWeights masters;
    private final double clipNorm;
    private final boolean collectStats;
    private final BufferSnapshot buffers;

    private Phase phase = Phase.CLEAN;
    private double scaleUsed;
    private long scaleGeneration;
    private long lastStepGeneration = -1;
    private boolean finite;
    private long attempted;
    private long applied;

    private AmpOptimizer(Builder b, Map<String, Parameter> params, List<ParamGroup> groups, ScaleHolder scaling) {
        this.params = params;
        this.precision = b.precision;
        this.scaling = scaling;
        this.clipNorm = b.clipNorm;
        this.collectStats = b.collectStats;
        this.masters = MasterWeights.createGrouped(params, precision.usesMasterWeights(), groups);
        this.groups = masters.groups();
        this.buffers = new BufferSnapshot(b.buffers);
    }

    /**
     * A builder for an optimizer over all parameters of {@code model}; {@link Builder#build()}
     * converts the model to the precision's dtype.
     */
    public static Builder builder(Module model, Optimizer optimizer) {
        return builder(model).optimizer(optimizer);
    }

    /**
     * A builder over all parameters of {@code model} whose optimizer is set later with
     * {@link Builder#optimizer(Optimizer)} (the form {@link dev.mpt.optim.train.Trainer}'s builder
     * wraps).
     */
    public static Builder builder(Module model) {
        Objects.requireNonNull(model, "AmpOptimizer.builder: model is null");
        return new Builder(model, null);
    }

    /**
     * A builder for an optimizer over the given named parameters (e.g. one part of a model); they
     * must already have the precision's dtype (or be FP32 parameters kept FP32).
     */
    public static Builder builder(Map<String, Parameter> params, Optimizer optimizer) {
        Objects.requireNonNull(params, "AmpOptimizer.builder: params is null");
        return new Builder(null, new LinkedHashMap<>(params)).optimizer(optimizer);
    }

    /**
     * A builder for an optimizer over a list of parameters, named {@code "0"}, {@code "1"}, ... in
     * checkpoints; they must already have the precision's dtype (or be kept FP32).
     */
    public static Builder builder(List<Parameter> params, Optimizer optimizer) {
        Objects.requireNonNull(params, "AmpOptimizer.builder: params is null");
        Map<String, Parameter> named = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            named.put(Integer.toString(i), params.get(i));
        }
        return new Builder(null, named).optimizer(optimizer);
    }

    /**
     * The optimizer (rule, hyper-parameters, schedule) of the first parameter group: the only one
     * without explicit groups, else the default group when it has parameters, else the first
     * group added.
     */
    public Optimizer optimizer() {
        return groups.get(0).optimizer();
    }

    /** The parameter groups, in order (one {@link ParamGroup#DEFAULT} group without explicit groups). */
    public List<ParamGroup> groups() {
        return groups;
    }

    /** The precision. */
    public Precision precision() {
        return precision;
    }

    /** The holder of the current loss scaler (owned by this optimizer, or shared with others). */
    public ScaleHolder scaleHolder() {
        return scaling;
    }

    /** The FP32 masters, unscaled gradients and optimizer state. */
    public MasterWeights masterWeights() {
        return masters;
    }

    /** The loss scale the next {@link #scale(Tensor)} will use. */
    public double lossScale() {
        return scaling.scale();
    }

    /** Step attempts so far, skipped ones included. */
    public long attemptedSteps() {
        return attempted;
    }

    /** Applied (not skipped) steps so far. */
    public long appliedSteps() {
        return applied;
    }

    /** The learning rate the next applied step will use, in the first group ({@link #optimizer()}'s). */
    public double learningRate() {
        return groups.get(0).optimizer().schedule().at(applied);
    }

    /**
     * The learning rate the next applied step will use in group {@code group}.
     *
     * @throws IllegalArgumentException if there is no such group
     */
    public double learningRate(String group) {
        for (ParamGroup g : groups) {
            if (g.name().equals(group)) {
                return g.optimizer().schedule().at(applied);
            }
        }
        throw new IllegalArgumentException("AmpOptimizer.learningRate: no group '" + group + "'; there are "
                + groups.stream().map(ParamGroup::name).toList());
    }

    /**
     * The loss multiplied by the current scale, in FP32, to call {@code backward()} on. May be
     * called several times before one {@link #step()} (gradient accumulation).
     *
     * @throws NullPointerException     if {@code loss} is null
     * @throws IllegalArgumentException if {@code loss} has more than one element or does not
     *                                  require a gradient
     * @throws IllegalStateException    if called after {@link #step()} without {@link #zeroGrad()},
     *                                  after {@link #unscale()}, or when the scale changed since the
     *                                  previous {@code scale()} of this step
     */
    public Tensor scale(Tensor loss) {
        Objects.requireNonNull(loss, "AmpOptimizer.scale: loss is null");
        switch (phase) {
            case STEPPED -> throw new IllegalStateException("AmpOptimizer.scale: called after step() without "
                    + "zeroGrad(); the new gradients would be added to the old ones. Call zeroGrad() after each step()");
            case UNSCALED -> throw new IllegalStateException("AmpOptimizer.scale: called after unscale(); this step's "
                    + "gradients are already unscaled. Call step() (then zeroGrad()) before scaling a new loss");
            case SCALED -> {
                if (scaling.generation() != scaleGeneration) {
                    throw new IllegalStateException("AmpOptimizer.scale: the loss scale changed since the previous "
                            + "scale() of this step (ScaleHolder.update() ran in between); update a shared scaling "
                            + "once per iteration, after every optimizer sharing it has stepped");
                }
            }
            case CLEAN -> {
                if (scaling.isShared() && lastStepGeneration == scaling.generation()) {
                    throw new IllegalStateException("AmpOptimizer.scale: this optimizer already stepped with the "
                            + "current scale of its shared ScaleHolder; call scaling.update() once per iteration, "
                            + "after every optimizer sharing it has stepped");
                }
            }
        }
        if (loss.numel() != 1) {
            throw new IllegalArgumentException("AmpOptimizer.scale: loss must have one element, got shape "
                    + Arrays.toString(loss.shape()) + "; reduce it (mean or sum) first");
        }
        if (!loss.requiresGrad()) {
            throw new IllegalArgumentException("AmpOptimizer.scale: loss does not require a gradient; compute it "
                    + "from the model's parameters outside a NoGrad scope");
        }
        scaleUsed = scaling.scale();
        scaleGeneration = scaling.generation();
        phase = Phase.SCALED;
        return loss.to(DType.FP32).mul((float) scaleUsed);
    }

    /**
     * Divides this step's gradients by the scale into FP32 and checks them for inf/NaN (done by
     * {@link #step()} when not called before). Call it explicitly to read the unscaled gradients
     * ({@link MasterWeights#gradient}) before stepping, or on two optimizers sharing a scaling so
     * that an overflow in either skips both.
     *
     * @return true when all gradients are finite
     * @throws IllegalStateException if no {@code scale(loss).backward()} came before it in this step,
     *                               if called twice, or if no parameter has a gradient
     */
    public boolean unscale() {
        if (phase == Phase.CLEAN && unscaledLossAllowed()) {
            adoptUnitScale();
        }
        switch (phase) {
            case CLEAN -> throw new IllegalStateException("AmpOptimizer.unscale: no scaled loss since zeroGrad(); "
                    + "call scale(loss).backward() first");
            case UNSCALED -> throw new IllegalStateException("AmpOptimizer.unscale: called twice for one step; "
                    + "call step() next");
            case STEPPED -> throw new IllegalStateException("AmpOptimizer.unscale: called after step(); call "
                    + "zeroGrad(), then scale(loss).backward(), before the next step");
            case SCALED -> {
            }
        }
        if (scaling.generation() != scaleGeneration) {
            throw new IllegalStateException("AmpOptimizer.unscale: the loss scale changed between scale() and this "
                    + "call (ScaleHolder.update() ran in between); update a shared scaling only after every optimizer "
                    + "sharing it has stepped");
        }
        finite = masters.unscaleGradients(scaleUsed);
        if (masters.gradientCount() == 0) {
            throw new IllegalStateException("AmpOptimizer.unscale: no parameter has a gradient; call backward() on "
                    + "the tensor scale(loss) returned before step()");
        }
        if (!finite) {
            scaling.recordOverflow();
        }
        phase = Phase.UNSCALED;
        return finite;
    }

    /**
     * Unscales and checks the gradients (unless {@link #unscale()} already did), then skips the
     * step on overflow or clips and applies the update; updates an owned scaling.
     *
     * @throws IllegalStateException if no {@code scale(loss).backward()} came since the last
     *                               {@code zeroGrad()}, or if called twice in a row
     */
    public StepOutcome step() {
        if (phase == Phase.CLEAN && unscaledLossAllowed()) {
            adoptUnitScale();
        }
        switch (phase) {
            case CLEAN -> throw new IllegalStateException("AmpOptimizer.step: no scaled loss since zeroGrad(); call "
                    + "scale(loss).backward() before step()");
            case STEPPED -> throw new IllegalStateException("AmpOptimizer.step: called twice without a new backward; "
                    + "call zeroGrad() and scale(loss).backward() before the next step()");
            case SCALED -> unscale();
            case UNSCALED -> {
            }
        }
        attempted++;
        boolean skip = !finite || scaling.overflowSinceUpdate();
        Map<String, GradientStats> stats = collectStats ? masters.gradientStats(scaleUsed) : Map.of();
        double norm = masters.gradientNorm();
        double[] rates = new double[groups.size()];
        for (int g = 0; g < rates.length; g++) {
            rates[g] = groups.get(g).optimizer().schedule().at(applied);
        }
        List<String> overflowed = List.of();
        if (skip) {
            buffers.restore();
        } else {
            if (clipNorm > 0) {
                double c = GradientClipping.clipCoefficient(norm, clipNorm);
                if (c < 1) {
                    masters.scaleGradients((float) c);
                }
            }
            overflowed = masters.update(rates);
            applied++;
            if (!overflowed.isEmpty()) {
                LOG.warn("AmpOptimizer.step: step {} was applied, but parameters {} now hold infinite or NaN {} "
                        + "weights: their FP32 masters rounded beyond the format's largest finite value (FP16: 65504) "
                        + "or the update overflowed; later steps will skip. Lower the learning rate or clip "
                        + "gradients (clipGradNorm)", attempted, overflowed, precision.modelDtype());
            }
        }
        double next;
        boolean atMinimum;
        if (scaling.isShared()) {
            next = scaling.scale();
            atMinimum = skip && scaleUsed <= scaling.scaler().minScale();
        } else {
            ScaleDecision u = scaling.adjust();
            next = u.nextScale();
            atMinimum = u.atMinimumAndOverflowing();
        }
        lastStepGeneration = scaleGeneration;
        phase = Phase.STEPPED;
        return new StepOutcome(attempted, applied, skip, scaleUsed, next, norm, rates[0], atMinimum, overflowed,
                stats);
    }

    /**
     * Whether a plain {@code loss.backward()} may stand in for {@code scale(loss).backward()}: when
     * this optimizer's own scale is fixed at 1, scaling is the identity.
     */
    private boolean unscaledLossAllowed() {
        return !scaling.isShared() && scaling.scaler() instanceof FixedLossScaler f && f.scale() == 1;
    }

    private void adoptUnitScale() {
        scaleUsed = 1;
        scaleGeneration = scaling.generation();
        phase = Phase.SCALED;
    }

    /**
     * Clears every parameter's gradient and starts a new step: the model's buffers are copied
     * here, to be put back if the step is skipped.
     */
    public void zeroGrad() {
        for (Parameter p : params.values()) {
            p.value().zeroGrad();
        }
        buffers.save();
        phase = Phase.CLEAN;
    }

    /**
     * A copy of this optimizer's resumable state: precision, step counters, the loss scaler's
     * state and the masters and optimizer state of every parameter.
     */
    public AmpState state() {
        return new AmpState(precision, applied, attempted, scaling.scaler().state(), masters.snapshot());
    }

    /**
     * Restores a state from {@link #state()} (of an optimizer over the same parameters in the
     * same groups, with the same precision and optimizer), after the model's parameters were
     * restored; clears the gradients and starts a new step. Nothing changes when the state does
     * not match.
     *
     * @throws NullPointerException     if {@code state} is null
     * @throws IllegalArgumentException if the state has another precision, a scaler state this
     *                                  optimizer's scaler cannot take, or other parameters, groups,
     *                                  masters or optimizer state arrays
     */
    public void restore(AmpState state) {
        Objects.requireNonNull(state, "AmpOptimizer.restore: state is null");
        if (state.precision() != precision) {
            throw new IllegalArgumentException("AmpOptimizer.restore: checkpoint precision " + state.precision()
                    + " differs from this optimizer's " + precision);
        }
        scaling.scaler().restore(state.scaler());          // validates before anything changes
        masters.restore(state.parameters());
        scaling.restore(state.scaler());
        applied = state.appliedSteps();
        attempted = state.attemptedSteps();
        lastStepGeneration = -1;
        zeroGrad();
    }

    @Override
    public String toString() {
        boolean plain = groups.size() == 1 && groups.get(0).name().equals(ParamGroup.DEFAULT);
        return "AmpOptimizer[precision=" + precision + (plain ? ", optimizer=" + optimizer() : ", groups=" + groups)
                + ", " + scaling
                + ", clipGradNorm=" + (clipNorm > 0 ? Double.toString(clipNorm) : "off")
                + ", gradientStats=" + collectStats + ", appliedSteps=" + applied + ", attemptedSteps=" + attempted + "]";
    }

    /** Settings of an {@link AmpOptimizer}; {@link #build()} validates them. */
    public static final class Builder {
        private final Module model;
        private final Map<String, Parameter> params;
        private Optimizer optimizer;
        private final List<GroupSpec> groups = new ArrayList<>();
        private LearningRateSchedule schedule;
        private Precision precision = Precision.FP32;
        private LossScaler scaler;
        private ScaleHolder shared;
        private double clipNorm;
        private boolean collectStats;
        private Map<String, Buffer> buffers = Map.of();

        private Builder(Module model, Map<String, Parameter> params) {
            this.model = model;
            this.params = params;
        }

        /**
         * The optimizer: update rule, hyper-parameters, learning-rate schedule. Required unless
         * {@link #group} calls place every parameter; with groups, it is the optimizer of the
         * {@link ParamGroup#DEFAULT} group, which holds the parameters no group names.
         */
        public Builder optimizer(Optimizer o) {
            optimizer = Objects.requireNonNull(o, "AmpOptimizer.Builder.optimizer: optimizer is null");
            return this;
        }

        /**
         * Adds a parameter group: {@code params} (found among the optimizer's parameters by
         * identity; the keys only name them in messages) are updated by {@code o}, which must be of
         * the same class as every other group's optimizer. Groups keep the order of these calls,
         * after the default group.
         *
         * <p>Parameters in no group go to the default group when {@link #optimizer} is set, and are
         * an error otherwise. Why not PyTorch's way, where a parameter left out of every group is
         * silently never trained: the common case is "these hyper-parameters, except for these
         * parameters", and a default group says it in one line while still training anything
         * forgotten; a builder without a default optimizer asked for every parameter to be placed,
         * so one left out is reported by name.
         *
         * @param name a name, distinct from the other groups' and from {@link ParamGroup#DEFAULT}
         *             when {@link #optimizer} is set (recorded in checkpoints)
         */
        public Builder group(String name, Map<String, Parameter> params, Optimizer o) {
            Objects.requireNonNull(name, "AmpOptimizer.Builder.group: name is null");
            Objects.requireNonNull(params, () -> "AmpOptimizer.Builder.group: parameters of group '" + name + "' are null");
            Objects.requireNonNull(o, () -> "AmpOptimizer.Builder.group: optimizer of group '" + name + "' is null");
            groups.add(new GroupSpec(name, new LinkedHashMap<>(params), o));
            return this;
        }

        /**
         * A learning-rate schedule replacing the optimizer's own, in every group (it advances on
         * applied steps only); for a rate per group, give each group's optimizer its schedule instead.
         */
        public Builder schedule(LearningRateSchedule s) {
            schedule = Objects.requireNonNull(s, "AmpOptimizer.Builder.schedule: schedule is null");
            return this;
        }

        /** The precision (default {@link Precision#FP32}). */
        public Builder precision(Precision p) {
            precision = Objects.requireNonNull(p, "AmpOptimizer.Builder.precision: precision is null");
            return this;
        }

        /** A scaler owned by this optimizer (default: {@link Precision#defaultScaler()}). */
        public Builder lossScaler(LossScaler s) {
            scaler = Objects.requireNonNull(s, "AmpOptimizer.Builder.lossScaler: scaler is null");
            return this;
        }

        /** A scale shared with other optimizers, updated by the caller ({@link ScaleHolder#update()}). */
        public Builder sharedScale(ScaleHolder s) {
            shared = Objects.requireNonNull(s, "AmpOptimizer.Builder.sharedScale: holder is null");
            return this;
        }

        /** Clips the unscaled gradients to global L2 norm {@code maxNorm} (finite, {@code > 0}) before each update. */
        public Builder clipGradNorm(double maxNorm) {
            clipNorm = maxNorm;
            if (!(maxNorm > 0) || !Double.isFinite(maxNorm)) {
                throw new IllegalArgumentException("AmpOptimizer.Builder.clipGradNorm: maxNorm must be finite and > 0, "
                        + "got " + maxNorm);
            }
            return this;
        }

        /**
         * The module whose buffers (BatchNorm's running statistics) a skipped step puts back, for
         * an optimizer built from parameters; a builder given a Module takes that module's.
         */
        public Builder buffers(Module module) {
            Objects.requireNonNull(module, "AmpOptimizer.Builder.buffers: module is null");
            buffers = module.namedBuffers();
            return this;
        }

        /** Whether each step reports per-parameter {@link GradientStats} (default false: it costs a pass). */
        public Builder collectGradientStats(boolean on) {
            collectStats = on;
            return this;
        }

        /**
         * Validates the settings, converts the model (when built from one) to the precision's dtype,
         * and creates the FP32 masters.
         *
         * @throws IllegalStateException    if no optimizer and no group is set
         * @throws IllegalArgumentException if both a scaler and a shared scale are set, if the
         *                                  precision does not scale the loss but a scale other than 1
         *                                  is set, if there are no parameters, if a parameter has the
         *                                  wrong dtype, or if the groups are wrong: a parameter in two
         *                                  groups, in no group without a default optimizer, or not
         *                                  among the optimizer's parameters; an empty group; two
         *                                  groups with one name; optimizers of different classes
         */
        public AmpOptimizer build() {
            if (optimizer == null && groups.isEmpty()) {
                throw new IllegalStateException("AmpOptimizer.Builder.build: no optimizer; call .optimizer(new Sgd(0.01, "
                        + "0.9)) or another Optimizer");
            }
            if (scaler != null && shared != null) {
                throw new IllegalArgumentException("AmpOptimizer.Builder: set either lossScaler (owned) or sharedScale "
                        + "(shared), not both");
            }
            LossScaler s = shared != null ? shared.scaler() : scaler;
            checkScaler(precision, s, "AmpOptimizer.Builder");
            Map<String, Parameter> ps;
            if (model != null) {
                model.to(precision.modelDtype());
                ps = new LinkedHashMap<>(model.namedParameters());
                buffers = model.namedBuffers();
            } else {
                ps = params;
                ps.forEach((n, p) -> {
                    Objects.requireNonNull(p, () -> "AmpOptimizer.Builder: parameter '" + n + "' is null");
                    DType want = p.keepsFp32() ? DType.FP32 : precision.modelDtype();
                    if (p.dtype() != want) {
                        throw new IllegalArgumentException("AmpOptimizer.Builder: parameter '" + n + "' is " + p.dtype()
                                + " but precision " + precision + " needs " + want + "; call model.to(DType."
                                + want + ") first, or build from the Module");
                    }
                });
            }
            if (ps.isEmpty()) {
                throw new IllegalArgumentException("AmpOptimizer.Builder: there are no parameters to optimize");
            }
            List<ParamGroup> resolved = resolveGroups(ps);
            ScaleHolder scaling = shared != null ? shared
                    : ScaleHolder.owned(scaler != null ? scaler : precision.defaultScaler());
            return new AmpOptimizer(this, ps, resolved, scaling);
        }

        /**
         * The groups by parameter name, each listing its parameters in the optimizer's order: the
         * default group (the builder's optimizer, with every parameter no group names; left out
         * when empty) first, then the added ones; each with the builder's schedule when one is set.
         */
        private List<ParamGroup> resolveGroups(Map<String, Parameter> ps) {
            String op = "AmpOptimizer.Builder";
            Map<Parameter, String> nameOf = new IdentityHashMap<>();
            ps.forEach((n, p) -> nameOf.putIfAbsent(p, n));
            Map<String, Integer> groupOf = new HashMap<>();
            for (int g = 0; g < groups.size(); g++) {
                GroupSpec spec = groups.get(g);
                if (spec.params.isEmpty()) {
                    throw new IllegalArgumentException(op + ": group '" + spec.name + "' has no parameters");
                }
                for (Map.Entry<String, Parameter> e : spec.params.entrySet()) {
                    String n = nameOf.get(Objects.requireNonNull(e.getValue(),
                            () -> op + ": parameter '" + e.getKey() + "' of group '" + spec.name + "' is null"));
                    if (n == null) {
                        throw new IllegalArgumentException(op + ": parameter '" + e.getKey() + "' of group '" + spec.name
                                + "' is not one of the optimizer's " + ps.size() + " parameters (a parameter of "
                                + "another model?)");
                    }
                    Integer before = groupOf.putIfAbsent(n, g);
                    if (before != null && before != g) {
                        throw new IllegalArgumentException(op + ": parameter '" + n + "' is in two groups, '"
                                + groups.get(before).name + "' and '" + spec.name + "'; each parameter belongs to "
                                + "exactly one group");
                    }
                }
            }
            List<ParamGroup> out = new ArrayList<>();
            List<String> rest = ps.keySet().stream().filter(n -> !groupOf.containsKey(n)).toList();
            if (!rest.isEmpty()) {
                if (optimizer == null) {
                    throw new IllegalArgumentException(op + ": parameters " + rest + " are in no group; add them to a "
                            + "group, or set .optimizer(...) for a default group that takes every parameter no group "
                            + "names");
                }
                out.add(new ParamGroup(ParamGroup.DEFAULT, withSchedule(optimizer), rest));
            }
            for (int g = 0; g < groups.size(); g++) {
                int index = g;
                List<String> names = ps.keySet().stream().filter(n -> groupOf.get(n) != null && groupOf.get(n) == index)
                        .toList();
                out.add(new ParamGroup(groups.get(g).name, withSchedule(groups.get(g).optimizer), names));
            }
            MasterWeights.checkGroups(op, List.copyOf(ps.keySet()), out);    // names, optimizer classes
            return out;
        }

        private Optimizer withSchedule(Optimizer o) {
            return schedule == null ? o : o.withSchedule(schedule);
        }

        /** A group as added: its parameters are resolved to the optimizer's names in {@link #build()}. */
        private record GroupSpec(String name, Map<String, Parameter> params, Optimizer optimizer) {
        }
    }

    /** Refuses a scaler that the precision does not allow (a scale other than a fixed 1). */
    private static void checkScaler(Precision precision, LossScaler s, String op) {
        if (s != null && !precision.allowsLossScaling() && !(s instanceof FixedLossScaler && s.scale() == 1)) {
            throw new IllegalArgumentException(op + ": precision " + precision + " does not scale the loss, but "
                    + s + " was set; drop the scaler or use LossScaler.fixed(1)");
        }
    }
}
