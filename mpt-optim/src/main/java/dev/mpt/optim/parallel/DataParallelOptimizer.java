package dev.mpt.optim.parallel;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.optim.GradientClipping;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.amp.MasterArrays;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.amp.Unscale;
import dev.mpt.optim.scaling.FixedLossScaler;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.scaling.ScaleDecision;
import dev.mpt.optim.schedule.LearningRateSchedule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank's mixed-precision optimizer in data-parallel training with ZeRO stage 1 (Rajbhandari
 * et al., "ZeRO", SC 2020): every rank holds a whole replica of the 16-bit model, but the FP32
 * master weights and the optimizer state of each element live on one rank only, its owner
 * ({@link Shards}), so they take about {@code 1/N} of the memory per rank. Used like
 * {@link dev.mpt.optim.amp.AmpOptimizer}, one instance per rank:
 *
 * <pre>{@code
 * var opt = DataParallelOptimizer.builder(model, collective, new Adam(1e-3))
 *         .precision(Precision.MIXED_FP16).clipGradNorm(1.0).build();
 * for (int step = 0; step < steps; step++) {
 *     opt.zeroGrad();
 *     Batch b = microBatch(step, collective.rank());            // this rank's part of the global batch
 *     opt.scale(Losses.crossEntropy(model.forward(inputs(b)), b.labels())).backward();
 *     StepOutcome o = opt.step();                                // the same outcome on every rank
 * }
 * }</pre>
 *
 * <p>{@link #step()}, on every rank in the same order:
 * <ol>
 *   <li>the gradients of the replica are copied into one flat vector per group
 *       ({@link ShardLayout}: the 16-bit parameters, and the FP32 ones), and reduce-scattered: the
 *       owner of each element sums the ranks' values in rank order in FP32,
 *       {@code S = g_0; S += g_1; ...; S += g_{N-1}} ({@link Collective});</li>
 *   <li>the owner unscales its shard, {@code g = fl32(S / fl32(scale * M))} with
 *       {@code M = N * k} the number of micro-batches in the step ({@code k} per rank, see
 *       {@link #accumulate()}): one correctly rounded FP32 division by the scale times the number
 *       of micro-batches, so {@code g} is the mean over micro-batches of the unscaled gradients
 *       of each micro-batch's loss (the global batch's mean loss when the micro-batches have equal
 *       size and each loss is a mean). With power-of-two scales and {@code M} the divisor is exact
 *       and so is the division unless the result is subnormal. While a block is in cache the owner
 *       also forms its sum of squares ({@link GradientClipping#blockSum});</li>
 *   <li>one {@link Collective#allGather(double[])} hands every rank each rank's overflow flag,
 *       micro-batch count, which parameters had a gradient, and the per-block sums of squares, in
 *       rank order, which is the global block order; so every rank makes the same skip and scale
 *       decision (the dynamic scaler backs off identically everywhere) and computes the same
 *       global norm, adding the block sums within each parameter and then parameter by parameter
 *       ({@code MasterWeights.gradientNorm}'s order): the same bits for any number of ranks;</li>
 *   <li>unless the step is skipped: clipping by that norm, {@link Optimizer#apply} by the owner on
 *       its shard of the FP32 masters and state, rounding of the shard into 16 bits, and an
 *       {@link Collective#allGather(short[], Shards, short[])} of the new weights into every
 *       replica (FP32 parameters: their new FP32 values).</li>
 * </ol>
 * The 16-bit exchange sends 2 bytes per parameter each way, about {@code 2 * (N-1)/N * 2} bytes
 * per parameter per rank and step.
 *
 * <p>Equivalence: a single rank ({@code N = 1}) that {@linkplain #accumulate() accumulates} the same
 * {@code N} micro-batches in rank order sums them in the same order in FP32, divides by the same
 * value, computes the same norm and applies the same element-wise rule, so its masters are bit for
 * bit those of {@code N} ranks; and one rank with one micro-batch is bit for bit
 * {@link dev.mpt.optim.amp.AmpOptimizer}.
 *
 * <p>Other rules: a parameter takes part in a step (its state and own step count change) when any
 * rank had a gradient for it; the replicas' buffers (BatchNorm's running statistics) are put back
 * on a skipped step and replaced by rank 0's after every step ({@link ReplicaBuffers}); at
 * {@link Builder#build()} rank 0's weights and buffers are copied to every rank, as PyTorch's DDP
 * does, so the replicas start equal even if built differently. {@link StepOutcome#overflowedWeights()}
 * names only parameters in this rank's shard whose rounded weights overflowed (every rank sees
 * them in the next step's gradients), and no gradient statistics are collected.
 *
 * <p>Calls out of order throw {@link IllegalStateException}, as {@code AmpOptimizer}'s do; a rank
 * that fails makes the others fail within the collective's deadline ({@link CollectiveException}).
 */
public final class DataParallelOptimizer {

    private static final Logger LOG = LoggerFactory.getLogger(DataParallelOptimizer.class);

    /** Blocks per parallel task in the shard passes: a run of at least {@link Grain#ELEMENTWISE} elements. */
    private static final int BLOCK_GRAIN = Math.max(1, Grain.ELEMENTWISE / GradientClipping.BLOCK);

    private enum Phase { CLEAN, SCALED, ACCUMULATED, STEPPED }

    private final Collective collective;
    private final int rank;
    private final int world;
    private final ShardLayout layout;
    private final List<Parameter> params;
    private final Tensor[] bound;
    private final Optimizer optimizer;
    private final Precision precision;
    private final double clipNorm;
    private final ReplicaBuffers buffers;
    private LossScaler scaler;

    /** 16-bit gradients out, then the gathered new weights in; reused every step. */
    private final short[] flat16;
    /** FP32 gradients out, then the gathered new FP32 weights in. */
    private final float[] flat32;
    /** FP32 sums of accumulated micro-batches, allocated at the first {@link #accumulate()}. */
    private float[] acc16;
    private float[] acc32;
    private final Shard shard16;
    private final Shard shard32;
    /** Each parameter's own step count (the same on every rank). */
    private final long[] steps;
    /** Whether this rank has had a gradient for each parameter in this step. */
    private final boolean[] present;
    /** Whether any rank had, from the latest summary. */
    private final boolean[] anyPresent;
    private final double[] summary;

    private Phase phase = Phase.CLEAN;
    private double scaleUsed;
    private int microBatches;
    private long attempted;
    private long applied;

    private DataParallelOptimizer(Builder b, LossScaler scaler) {
        this.collective = b.collective;
        this.rank = collective.rank();
        this.world = collective.worldSize();
        this.optimizer = b.schedule == null ? b.optimizer : b.optimizer.withSchedule(b.schedule);
        this.precision = b.precision;
        this.clipNorm = b.clipNorm;
        this.scaler = scaler;
        Module model = b.model;
        model.to(precision.modelDtype());
        Map<String, Parameter> named = model.namedParameters();
        if (named.isEmpty()) {
            throw new IllegalArgumentException("DataParallelOptimizer.Builder: the model has no parameters");
        }
        this.layout = ShardLayout.of(named, world);
        this.params = List.copyOf(named.values());
        this.bound = new Tensor[params.size()];
        for (int i = 0; i < params.size(); i++) {
            bound[i] = params.get(i).value();
        }
        this.buffers = new ReplicaBuffers(model.namedBuffers(), world);
        this.flat16 = new short[layout.half.total];
        this.flat32 = new float[layout.fp32.total];
        int states = optimizer.stateNames().size();
        this.shard16 = new Shard(layout.half, rank, states);
        this.shard32 = new Shard(layout.fp32, rank, states);
        this.steps = new long[params.size()];
        this.present = new boolean[params.size()];
        this.anyPresent = new boolean[params.size()];
        this.summary = new double[2 + params.size() + shard16.blocks + shard32.blocks];
        checkSameModel();
        copyWeightsFromRankZero();
        buffers.copyFromRankZero(collective);
        buffers.save();
    }

    /**
     * A builder for rank {@code collective.rank()}'s optimizer over all parameters of its replica
     * {@code model}; {@link Builder#build()} converts the model to the precision's dtype and must
     * run on every rank (it exchanges the initial weights).
     */
    public static Builder builder(Module model, Collective collective, Optimizer optimizer) {
        return new Builder(model, collective, optimizer);
    }

    /** This rank. */
    public int rank() {
        return rank;
    }

    /** The number of ranks. */
    public int worldSize() {
        return world;
    }

    /** The collective this optimizer exchanges over. */
    public Collective collective() {
        return collective;
    }

    /** The precision. */
    public Precision precision() {
        return precision;
    }

    /** The optimizer (rule, hyper-parameters, schedule). */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** The loss scale the next {@link #scale(Tensor)} uses (the same on every rank). */
    public double lossScale() {
        return scaler.scale();
    }

    /** The current loss scaler value. */
    public LossScaler lossScaler() {
        return scaler;
    }

    /** Step attempts so far, skipped ones included. */
    public long attemptedSteps() {
        return attempted;
    }

    /** Applied (not skipped) steps so far. */
    public long appliedSteps() {
        return applied;
    }

    /** The learning rate the next applied step will use. */
    public double learningRate() {
        return optimizer.schedule().at(applied);
    }

    /** This rank's shards of the 16-bit group and of the FP32 group: {@code [shards16, shards32]}. */
    public List<Shards> shards() {
        return List.of(layout.half.shards, layout.fp32.shards);
    }

    /**
     * Bytes of FP32 arrays this rank keeps for its shards: unscaled gradients, masters (16-bit
     * parameters; FP32 parameters' own values) and optimizer state, about {@code 1/N} of a single
     * process's; the replica's 16-bit weights, gradients and the exchange buffers come on top.
     */
    public long shardBytes() {
        int states = optimizer.stateNames().size();
        return 4L * (2 + states) * (shard16.len + shard32.len);
    }

    /** Bytes of the FP32 masters of the 16-bit parameters in this rank's shard (0 in {@link Precision#FP32}). */
    public long masterBytes() {
        return 4L * shard16.len;
    }

    /**
     * The loss multiplied by the current scale, in FP32, to call {@code backward()} on.
     *
     * @throws NullPointerException     if {@code loss} is null
     * @throws IllegalArgumentException if {@code loss} has more than one element or needs no gradient
     * @throws IllegalStateException    if called after {@link #step()} without {@link #zeroGrad()}
     */
    public Tensor scale(Tensor loss) {
        Objects.requireNonNull(loss, "DataParallelOptimizer.scale: loss is null");
        if (phase == Phase.STEPPED) {
            throw new IllegalStateException("DataParallelOptimizer.scale: called after step() without zeroGrad(); "
                    + "the new gradients would be added to the old ones. Call zeroGrad() after each step()");
        }
        if (loss.numel() != 1) {
            throw new IllegalArgumentException("DataParallelOptimizer.scale: loss must have one element, got shape "
                    + Arrays.toString(loss.shape()) + "; reduce it (mean or sum) first");
        }
        if (!loss.requiresGrad()) {
            throw new IllegalArgumentException("DataParallelOptimizer.scale: loss does not require a gradient; "
                    + "compute it from the model's parameters outside a NoGrad scope");
        }
        scaleUsed = scaler.scale();
        phase = Phase.SCALED;
        return loss.to(DType.FP32).mul((float) scaleUsed);
    }

    /**
     * Ends one micro-batch of this rank: adds the replica's current gradients to this rank's FP32
     * sums ({@code s = g_0} for the first micro-batch since {@link #zeroGrad()}, then
     * {@code s += g_j}, each addition rounded to FP32, as the reduce-scatter adds ranks) and clears
     * them. The next {@link #step()} divides by the scale times the number of micro-batches of all
     * ranks; every rank must accumulate the same number. A step after accumulating sends FP32
     * sums (4 bytes per parameter instead of 2). One rank accumulating {@code N} micro-batches gives
     * bit for bit the result of {@code N} ranks with one each, in the same order.
     *
     * @throws IllegalStateException if no {@code scale(loss).backward()} came since the last
     *                               {@code accumulate()} or {@code zeroGrad()}, after {@code step()},
     *                               or when no parameter has a gradient
     */
    public void accumulate() {
        if (phase == Phase.CLEAN && unitScale()) {
            adoptUnitScale();
        }
        if (phase != Phase.SCALED) {
            throw new IllegalStateException("DataParallelOptimizer.accumulate: no scale(loss).backward() since the "
                    + (phase == Phase.STEPPED ? "step(); call zeroGrad() first" : "last zeroGrad() or accumulate()"));
        }
        boolean any = false;
        for (Parameter p : params) {
            any |= p.grad() != null;
        }
        if (!any) {
            throw new IllegalStateException("DataParallelOptimizer.accumulate: no parameter has a gradient; call "
                    + "backward() on the tensor scale(loss) returned");
        }
        if (acc16 == null) {
            acc16 = new float[flat16.length];
            acc32 = new float[flat32.length];
        }
        boolean first = microBatches == 0;
        for (int i = 0; i < params.size(); i++) {
            ShardLayout.Entry e = layout.entries.get(i);
            Tensor g = params.get(i).grad();
            float[] acc = e.sixteenBit() ? acc16 : acc32;
            if (first) {
                present[i] = false;
            }
            present[i] |= g != null;
            addInto(acc, e, g, first);
            params.get(i).value().zeroGrad();
        }
        microBatches++;
        phase = Phase.ACCUMULATED;
    }

    /**
     * {@code acc[e] = g} (first) or {@code acc[e] += g} in FP32; an absent gradient counts as +0
     * (as a rank without one sends zeros), so {@code -0 + 0} rounds as the reduce-scatter rounds it.
     */
    private static void addInto(float[] acc, ShardLayout.Entry e, Tensor g, boolean first) {
        int off = e.offset();
        int n = e.length();
        if (g == null) {
            if (first) {
                Arrays.fill(acc, off, off + n, 0f);
            } else {
                for (int j = off; j < off + n; j++) {
                    acc[j] += 0f;
                }
            }
            return;
        }
        Tensor c = g.contiguous();
        int base = c.storageOffset();
        if (c.dtype() == DType.FP32) {
            float[] s = c.floatData();
            if (first) {
                System.arraycopy(s, base, acc, off, n);
            } else {
                for (int j = 0; j < n; j++) {
                    acc[off + j] += s[base + j];
                }
            }
            return;
        }
        short[] s = c.shortData();
        boolean half = c.dtype() == DType.FP16;
        for (int j = 0; j < n; j++) {
            float v = half ? Float.float16ToFloat(s[base + j]) : Float.intBitsToFloat(s[base + j] << 16);
            acc[off + j] = first ? v : acc[off + j] + v;
        }
    }

    /**
     * The data-parallel step (see the class comment): exchange, unscale, the common skip decision
     * and norm, clip, update of this rank's shard, and the gathering of the new weights. Every rank
     * must call it; all return the same outcome except {@link StepOutcome#overflowedWeights()}.
     *
     * @throws IllegalStateException if no {@code scale(loss).backward()} came since the last
     *                               {@code zeroGrad()}, if called twice in a row, if the ranks
     *                               accumulated different numbers of micro-batches, or if no rank
     *                               had any gradient
     * @throws CollectiveException   if another rank failed or did not arrive in time
     */
    public StepOutcome step() {
        if (phase == Phase.CLEAN && unitScale()) {
            adoptUnitScale();
        }
        switch (phase) {
            case CLEAN -> throw new IllegalStateException("DataParallelOptimizer.step: no scaled loss since zeroGrad(); "
                    + "call scale(loss).backward() before step()");
            case STEPPED -> throw new IllegalStateException("DataParallelOptimizer.step: called twice without a new "
                    + "backward; call zeroGrad() and scale(loss).backward() before the next step()");
            case SCALED, ACCUMULATED -> {
            }
        }
        for (int i = 0; i < params.size(); i++) {
            checkBound(i);
        }
        if (phase == Phase.SCALED && microBatches > 0 && anyGradient()) {
            accumulate();          // the last micro-batch, when step() came without its accumulate()
        }
        boolean accumulated = microBatches > 0;
        int perRank = accumulated ? microBatches : 1;
        if (!accumulated) {
            flattenGradients();
        }
        if (!layout.half.isEmpty()) {
            if (accumulated) {
                collective.reduceScatter(acc16, layout.half.shards, shard16.grad);
            } else {
                collective.reduceScatter(flat16, layout.half.dtype, layout.half.shards, shard16.grad);
            }
        }
        if (!layout.fp32.isEmpty()) {
            collective.reduceScatter(accumulated ? acc32 : flat32, layout.fp32.shards, shard32.grad);
        }
        double divisor = scaleUsed * world * perRank;
        boolean finite = shard16.unscale(divisor) & shard32.unscale(divisor);

        double[] all = exchangeSummary(finite, perRank);
        boolean skip = false;
        boolean anyGrad = false;
        int at = 0;
        double[] partial16 = new double[layout.half.blockStart.length];
        double[] partial32 = new double[layout.fp32.blockStart.length];
        Arrays.fill(anyPresent, false);
        for (int r = 0; r < world; r++) {
            int k = (int) all[at];
            if (k != perRank) {
                throw new IllegalStateException("DataParallelOptimizer.step: rank " + r + " accumulated " + k
                        + " micro-batches, rank " + rank + " " + perRank + "; every rank must accumulate the same "
                        + "number per step");
            }
            skip |= all[at + 1] == 0;
            at += 2;
            for (int i = 0; i < params.size(); i++) {
                anyPresent[i] |= all[at + i] != 0;
                anyGrad |= all[at + i] != 0;
            }
            at += params.size();
            System.arraycopy(all, at, partial16, layout.half.firstBlock(r), layout.half.blockCount(r));
            at += layout.half.blockCount(r);
            System.arraycopy(all, at, partial32, layout.fp32.firstBlock(r), layout.fp32.blockCount(r));
            at += layout.fp32.blockCount(r);
        }
        if (!anyGrad) {
            throw new IllegalStateException("DataParallelOptimizer.step: no rank has a gradient for any parameter; "
                    + "call backward() on the tensor scale(loss) returned before step()");
        }
        double norm = globalNorm(partial16, partial32);
        attempted++;
        double lr = optimizer.schedule().at(applied);
        List<String> overflowed = List.of();
        if (skip) {
            buffers.restore();
        } else {
            if (clipNorm > 0) {
                double c = GradientClipping.clipCoefficient(norm, clipNorm);
                if (c < 1) {
                    shard16.multiply((float) c);
                    shard32.multiply((float) c);
                }
            }
            for (int i = 0; i < params.size(); i++) {
                if (anyPresent[i]) {
                    steps[i]++;
                }
            }
            shard16.update(lr);
            shard32.update(lr);
            overflowed = overflowedNames();
            applied++;
            gatherWeights();
            if (!overflowed.isEmpty()) {
                LOG.warn("DataParallelOptimizer.step: rank {}: step {} was applied, but parameters {} now hold "
                        + "infinite or NaN {} weights in this rank's shard; later steps will skip. Lower the learning "
                        + "rate or clip gradients (clipGradNorm)", rank, attempted, overflowed, precision.modelDtype());
            }
        }
        if (world > 1) {
            buffers.copyFromRankZero(collective);
        }
        ScaleDecision u = scaler.adjust(!skip);
        scaler = u.next();
        phase = Phase.STEPPED;
        return new StepOutcome(attempted, applied, skip, scaleUsed, u.nextScale(), norm, lr,
                u.atMinimumAndOverflowing(), overflowed, Map.of());
    }

    /**
     * Clears the replica's gradients and any accumulated sums, and starts a new step (the buffers
     * are copied here, to be put back if the step is skipped).
     */
    public void zeroGrad() {
        for (Parameter p : params) {
            p.value().zeroGrad();
        }
        microBatches = 0;
        buffers.save();
        phase = Phase.CLEAN;
    }

    /**
     * The FP32 masters of every parameter, by name in parameter order (FP32 parameters: their
     * values), gathered from their owners; in the no-master ablation, the FP32 values of the
     * latest update before rounding. Every rank must call it.
     */
    public Map<String, float[]> allMasters() {
        float[] m16 = new float[layout.half.total];
        float[] m32 = new float[layout.fp32.total];
        if (!layout.half.isEmpty()) {
            collective.allGather(shard16.master, layout.half.shards, m16);
        }
        if (!layout.fp32.isEmpty()) {
            collective.allGather(shard32.master, layout.fp32.shards, m32);
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (ShardLayout.Entry e : layout.entries) {
            float[] src = e.sixteenBit() ? m16 : m32;
            out.put(e.name(), Arrays.copyOfRange(src, e.offset(), e.offset() + e.length()));
        }
        return out;
    }

    @Override
    public String toString() {
        return "DataParallelOptimizer[rank " + rank + " of " + world + ", precision=" + precision + ", optimizer="
                + optimizer + ", " + scaler + ", clipGradNorm=" + (clipNorm > 0 ? Double.toString(clipNorm) : "off")
                + ", shard16=" + layout.half.shards + ", shard32=" + layout.fp32.shards + ", appliedSteps=" + applied
                + ", attemptedSteps=" + attempted + "]";
    }

    // ---- the pieces of step() ----

    private boolean anyGradient() {
        for (Parameter p : params) {
            if (p.grad() != null) {
                return true;
            }
        }
        return false;
    }

    /** The replica's gradients into {@link #flat16} / {@link #flat32}; absent ones as zeros. */
    private void flattenGradients() {
        for (int i = 0; i < params.size(); i++) {
            ShardLayout.Entry e = layout.entries.get(i);
            Tensor g = params.get(i).grad();
            present[i] = g != null;
            int off = e.offset();
            int n = e.length();
            if (g == null) {
                if (e.sixteenBit()) {
                    Arrays.fill(flat16, off, off + n, (short) 0);
                } else {
                    Arrays.fill(flat32, off, off + n, 0f);
                }
                continue;
            }
            Tensor c = g.contiguous();
            if (e.sixteenBit()) {
                System.arraycopy(c.shortData(), c.storageOffset(), flat16, off, n);
            } else {
                System.arraycopy(c.floatData(), c.storageOffset(), flat32, off, n);
            }
        }
    }

    /** [k, finite, presence per parameter, this rank's block sums (16-bit group, then FP32)], gathered. */
    private double[] exchangeSummary(boolean finite, int perRank) {
        int at = 0;
        summary[at++] = perRank;
        summary[at++] = finite ? 1 : 0;
        for (boolean p : present) {
            summary[at++] = p ? 1 : 0;
        }
        System.arraycopy(shard16.partial, 0, summary, at, shard16.blocks);
        at += shard16.blocks;
        System.arraycopy(shard32.partial, 0, summary, at, shard32.blocks);
        double[] all = collective.allGather(summary);
        int expected = world * (2 + params.size()) + layout.half.blockStart.length + layout.fp32.blockStart.length;
        if (all.length != expected) {
            throw new CollectiveException(-1, "DataParallelOptimizer.step: the ranks' step summaries hold "
                    + all.length + " values, expected " + expected + "; the ranks' models or layouts differ", null);
        }
        return all;
    }

    /**
     * {@code sqrt(sum over parameters with a gradient (in order) of (sum over its blocks (in order)
     * of blockSum))}, the association of {@code MasterWeights.gradientNorm}.
     */
    private double globalNorm(double[] partial16, double[] partial32) {
        double total = 0;
        for (int i = 0; i < params.size(); i++) {
            if (!anyPresent[i]) {
                continue;
            }
            ShardLayout.Entry e = layout.entries.get(i);
            double[] partial = e.sixteenBit() ? partial16 : partial32;
            double t = 0;
            for (int b = e.firstBlock(); b < e.firstBlock() + e.blockCount(); b++) {
                t += partial[b];
            }
            total += t;
        }
        return Math.sqrt(total);
    }

    private List<String> overflowedNames() {
        List<String> out = List.of();
        for (int i = 0; i < params.size(); i++) {
            if (shard16.overflowed(i) || shard32.overflowed(i)) {
                if (out.isEmpty()) {
                    out = new ArrayList<>();
                }
                out.add(layout.entries.get(i).name());
            }
        }
        return out;
    }

    /** The owners' new weights into every replica. */
    private void gatherWeights() {
        if (!layout.half.isEmpty()) {
            collective.allGather(shard16.rounded, layout.half.shards, flat16);
        }
        if (!layout.fp32.isEmpty()) {
            collective.allGather(shard32.master, layout.fp32.shards, flat32);
        }
        writeReplica();
    }

    /** Copies {@link #flat16} / {@link #flat32} into the replica's parameters. */
    private void writeReplica() {
        for (int i = 0; i < params.size(); i++) {
            ShardLayout.Entry e = layout.entries.get(i);
            Tensor v = params.get(i).value();
            if (e.sixteenBit()) {
                System.arraycopy(flat16, e.offset(), v.shortData(), v.storageOffset(), e.length());
            } else {
                System.arraycopy(flat32, e.offset(), v.floatData(), v.storageOffset(), e.length());
            }
        }
    }

    /** Reads the replica's weights into {@link #flat16} / {@link #flat32}. */
    private void readReplica() {
        for (int i = 0; i < params.size(); i++) {
            ShardLayout.Entry e = layout.entries.get(i);
            Tensor v = params.get(i).value();
            if (e.sixteenBit()) {
                System.arraycopy(v.shortData(), v.storageOffset(), flat16, e.offset(), e.length());
            } else {
                System.arraycopy(v.floatData(), v.storageOffset(), flat32, e.offset(), e.length());
            }
        }
    }

    /** Every rank's layout must match rank 0's: parameter names, shapes and dtypes. */
    private void checkSameModel() {
        int hash = layout.signature().hashCode();
        double[] all = collective.allGather(new double[] {hash, layout.half.total, layout.fp32.total});
        for (int r = 0; r < world; r++) {
            if (all.length != 3 * world || all[3 * r] != hash || all[3 * r + 1] != layout.half.total
                    || all[3 * r + 2] != layout.fp32.total) {
                throw new IllegalArgumentException("DataParallelOptimizer.Builder: rank " + r + "'s model has other "
                        + "parameters (names, shapes or dtypes) than rank " + rank + "'s; build every replica from "
                        + "the same factory");
            }
        }
    }

    /** Replaces every replica's weights by rank 0's, and sets this rank's masters from them. */
    private void copyWeightsFromRankZero() {
        readReplica();
        if (!layout.half.isEmpty()) {
            short[] received = new short[flat16.length];
            collective.allGather(flat16, fromRankZero(flat16.length), received);
            System.arraycopy(received, 0, flat16, 0, flat16.length);
        }
        if (!layout.fp32.isEmpty()) {
            float[] received = new float[flat32.length];
            collective.allGather(flat32, fromRankZero(flat32.length), received);
            System.arraycopy(received, 0, flat32, 0, flat32.length);
        }
        writeReplica();
        setMastersFromFlat();
    }

    /** This rank's masters from the flat weights (exact widening of 16-bit values). */
    private void setMastersFromFlat() {
        if (shard16.len > 0) {
            MasterArrays.initFromModel(layout.half.dtype, flat16, shard16.lo, shard16.master, 0, shard16.len);
        }
        System.arraycopy(flat32, shard32.lo, shard32.master, 0, shard32.len);
    }

    private Shards fromRankZero(int n) {
        int[] b = new int[world + 1];
        Arrays.fill(b, 1, world + 1, n);
        return new Shards(b);
    }

    private void checkBound(int i) {
        if (params.get(i).value() != bound[i]) {
            throw new IllegalStateException("DataParallelOptimizer: parameter '" + layout.entries.get(i).name()
                    + "' was replaced after its optimizer was created; create the optimizer after model.to(...) and "
                    + "load weights through ShardedCheckpoint");
        }
    }

    private boolean unitScale() {
        return scaler instanceof FixedLossScaler f && f.scale() == 1;
    }

    private void adoptUnitScale() {
        scaleUsed = 1;
        phase = Phase.SCALED;
    }

    // ---- what ShardedCheckpoint reads and restores ----

    ShardLayout layout() {
        return layout;
    }

    Shard shard16() {
        return shard16;
    }

    Shard shard32() {
        return shard32;
    }

    long[] stepCounts() {
        return steps.clone();
    }

    ReplicaBuffers buffers() {
        return buffers;
    }

    /**
     * Installs restored state: counters, scaler, step counts; the shards' arrays were already
     * filled by the caller. Rebuilds every replica's weights from the owners' masters and starts a
     * new step. Every rank must call it.
     */
    void restored(long appliedSteps, long attemptedSteps, LossScaler restoredScaler, long[] stepCounts) {
        applied = appliedSteps;
        attempted = attemptedSteps;
        scaler = restoredScaler;
        System.arraycopy(stepCounts, 0, steps, 0, steps.length);
        if (shard16.len > 0) {
            MasterArrays.roundToModel(layout.half.dtype, shard16.master, 0, shard16.rounded, 0, shard16.len);
        }
        if (!layout.half.isEmpty()) {
            collective.allGather(shard16.rounded, layout.half.shards, flat16);
        }
        if (!layout.fp32.isEmpty()) {
            collective.allGather(shard32.master, layout.fp32.shards, flat32);
        }
        writeReplica();
        zeroGrad();
    }

    /**
     * This rank's part of one group: the reduced (then unscaled) gradients, the FP32 masters and the
     * optimizer state of elements {@code [lo, lo + len)} of the group, and its blocks.
     */
    final class Shard {
        final ShardLayout.Group group;
        final int lo;
        final int len;
        final int firstBlock;
        final int blocks;
        final float[] grad;
        final float[] master;
        final float[][] state;
        /** The masters rounded to 16 bits (16-bit group only). */
        final short[] rounded;
        final double[] partial;
        private final boolean[] blockOverflow;

        Shard(ShardLayout.Group group, int rank, int states) {
            this.group = group;
            this.lo = group.shards.start(rank);
            this.len = group.shards.length(rank);
            this.firstBlock = group.firstBlock(rank);
            this.blocks = group.blockCount(rank);
            this.grad = new float[len];
            this.master = new float[len];
            this.state = new float[states][len];
            this.rounded = group.dtype == DType.FP32 ? null : new short[len];
            this.partial = new double[blocks];
            this.blockOverflow = new boolean[blocks];
        }

        /** Divides the shard by {@code divisor} in place, block sums into {@link #partial}; true if all finite. */
        boolean unscale(double divisor) {
            Parallel.forRange(blocks, BLOCK_GRAIN, (first, end) -> {
                for (int b = first; b < end; b++) {
                    int from = group.blockStart[firstBlock + b] - lo;
                    int n = group.blockEnd[firstBlock + b] - group.blockStart[firstBlock + b];
                    partial[b] = Unscale.unscaleSumOfSquares(grad, from, grad, from, n, divisor);
                }
            });
            boolean finite = true;
            for (double p : partial) {
                finite &= Double.isFinite(p);
            }
            return finite;
        }

        /** {@code grad[i] *= c} in FP32, for clipping. */
        void multiply(float c) {
            for (int i = 0; i < len; i++) {
                grad[i] *= c;
            }
        }

        /**
         * The rule on every block of a parameter that had a gradient, with that parameter's step
         * count, then the rounding into {@link #rounded} with a check of each rounded block (FP32
         * group: of the new values).
         */
        void update(double lr) {
            boolean sixteen = rounded != null;
            boolean masters = precision.usesMasterWeights();
            int exp = group.dtype == DType.BF16 ? 0x7f80 : 0x7c00;
            Parallel.forRange(blocks, BLOCK_GRAIN, (first, end) -> {
                for (int b = first; b < end; b++) {
                    int gb = firstBlock + b;
                    int entry = group.blockEntry[gb];
                    blockOverflow[b] = false;
                    int from = group.blockStart[gb] - lo;
                    int n = group.blockEnd[gb] - group.blockStart[gb];
                    if (!anyPresent[entry]) {
                        continue;
                    }
                    if (sixteen && !masters) {
                        // no-master ablation: the update starts from the current 16-bit weights
                        Tensor v = params.get(entry).value();
                        int inParam = group.blockStart[gb] - layout.entries.get(entry).offset();
                        MasterArrays.initFromModel(group.dtype, v.shortData(), v.storageOffset() + inParam, master,
                                from, n);
                    }
                    optimizer.apply(lr, steps[entry], master, grad, state, from, n);
                    boolean bad = false;
                    if (sixteen) {
                        MasterArrays.roundToModel(group.dtype, master, from, rounded, from, n);
                        for (int i = from; i < from + n; i++) {
                            bad |= (rounded[i] & exp) == exp;
                        }
                    } else {
                        for (int i = from; i < from + n; i++) {
                            bad |= !Float.isFinite(master[i]);
                        }
                    }
                    blockOverflow[b] = bad;
                }
            });
        }

        /** Whether a block of parameter {@code entry} in this shard overflowed in the latest update. */
        boolean overflowed(int entry) {
            for (int b = 0; b < blocks; b++) {
                if (blockOverflow[b] && group.blockEntry[firstBlock + b] == entry) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Settings of a {@link DataParallelOptimizer}; {@link #build()} validates them. */
    public static final class Builder {
        private final Module model;
        private final Collective collective;
        private final Optimizer optimizer;
        private LearningRateSchedule schedule;
        private Precision precision = Precision.FP32;
        private LossScaler scaler;
        private double clipNorm;

        private Builder(Module model, Collective collective, Optimizer optimizer) {
            this.model = Objects.requireNonNull(model, "DataParallelOptimizer.builder: model is null");
            this.collective = Objects.requireNonNull(collective, "DataParallelOptimizer.builder: collective is null");
            this.optimizer = Objects.requireNonNull(optimizer, "DataParallelOptimizer.builder: optimizer is null");
        }

        /** The precision (default {@link Precision#FP32}). */
        public Builder precision(Precision p) {
            precision = Objects.requireNonNull(p, "DataParallelOptimizer.Builder.precision: precision is null");
            return this;
        }

        /** The loss scaler (default: {@link Precision#defaultScaler()}); every rank must set the same. */
        public Builder lossScaler(LossScaler s) {
            scaler = Objects.requireNonNull(s, "DataParallelOptimizer.Builder.lossScaler: scaler is null");
            return this;
        }

        /** A learning-rate schedule replacing the optimizer's own (it advances on applied steps only). */
        public Builder schedule(LearningRateSchedule s) {
            schedule = Objects.requireNonNull(s, "DataParallelOptimizer.Builder.schedule: schedule is null");
            return this;
        }

        /** Clips the unscaled mean gradients to global L2 norm {@code maxNorm} (finite, {@code > 0}). */
        public Builder clipGradNorm(double maxNorm) {
            if (!(maxNorm > 0) || !Double.isFinite(maxNorm)) {
                throw new IllegalArgumentException("DataParallelOptimizer.Builder.clipGradNorm: maxNorm must be finite "
                        + "and > 0, got " + maxNorm);
            }
            clipNorm = maxNorm;
            return this;
        }

        /**
         * Converts the model to the precision's dtype, checks that every rank's model has the same
         * parameters, copies rank 0's weights and buffers to every rank and creates this rank's
         * shards. Every rank must call it.
         *
         * @throws IllegalArgumentException if the precision does not scale the loss but a scale
         *                                  other than 1 is set, the model has no parameters, a
         *                                  buffer is not FP32, or the ranks' models differ
         */
        public DataParallelOptimizer build() {
            if (scaler != null && !precision.allowsLossScaling()
                    && !(scaler instanceof FixedLossScaler && scaler.scale() == 1)) {
                throw new IllegalArgumentException("DataParallelOptimizer.Builder: precision " + precision + " does not "
                        + "scale the loss, but " + scaler + " was set; drop the scaler or use LossScaler.fixed(1)");
            }
            return new DataParallelOptimizer(this, scaler != null ? scaler : precision.defaultScaler());
        }
    }
}
