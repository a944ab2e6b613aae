package dev.mpt.optim.amp;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Parameter;
import dev.mpt.optim.GradientClipping;
import dev.mpt.optim.Optimizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * FP32 master weights and the FP32 side of an update (Micikevicius et al., ICLR 2018, section
 * 3.1 and Figure 1), over a model's named parameters:
 * <ol>
 *   <li>{@link #unscaleGradients(double)}: each parameter's gradient (FP16, BF16 or FP32, scaled)
 *       is divided by the loss scale into an FP32 buffer, in one fused pass that also detects
 *       inf/NaN ({@link Unscale});</li>
 *   <li>{@link #update(double...)}: the optimizer's rule runs in FP32 on the FP32 master copy
 *       of each FP16/BF16 parameter, which is then rounded to nearest even into the parameter's
 *       16-bit storage ({@link MasterArrays}); FP32 parameters (normalization layers) are updated
 *       in place.</li>
 * </ol>
 * Without masters (the {@link Precision#FP16_NO_MASTER} ablation) a 16-bit parameter is widened
 * to FP32, updated, and rounded back each step, so an update below half an ulp of the weight is
 * lost. Optimizer state (momentum, moments) is FP32 in both cases.
 *
 * <p>A parameter without a gradient in a step (it took no part in the loss) is neither checked
 * nor updated, and neither its optimizer state nor its step count changes (PyTorch's behaviour:
 * each parameter counts its own steps, which drive Adam's bias corrections and SGD's first
 * momentum step). An FP32 parameter
 * whose tensor does not own its whole storage from offset 0 (a view) is replaced by a private
 * copy at creation, so the update can run on its storage array directly. The parameters must not
 * be replaced ({@link Parameter#set}) or converted afterwards; a step that finds a replaced
 * tensor throws.
 *
 * <p>Parameter groups ({@link ParamGroup}): each parameter belongs to exactly one group, whose
 * optimizer updates it at that group's rate. The slots stay in the order of the parameters given
 * (not grouped), so the global norm and every per-parameter pass run in the same order whatever
 * the grouping.
 */
public final class MasterWeights {

    private final List<ParamGroup> groups;
    private final boolean keepMasters;
    private final List<Slot> slots = new ArrayList<>();

    private MasterWeights(Map<String, Parameter> params, boolean keepMasters, List<ParamGroup> groups,
                          Map<String, Integer> groupOf) {
        this.groups = List.copyOf(groups);
        this.keepMasters = keepMasters;
        params.forEach((name, p) -> {
            Objects.requireNonNull(name, "MasterWeights: a parameter name is null");
            Objects.requireNonNull(p, () -> "MasterWeights: parameter '" + name + "' is null");
            int g = groupOf.get(name);
            slots.add(new Slot(name, p, g, keepMasters, groups.get(g).optimizer().stateNames().size()));
        });
    }

    /**
     * Masters and optimizer state for {@code params} (names are those of
     * {@link dev.mpt.nn.Module#namedParameters()}), all in one {@link ParamGroup#DEFAULT} group.
     *
     * @param keepMasters false for the no-master ablation (16-bit parameters updated in 16 bits)
     * @throws IllegalArgumentException if {@code params} is empty
     */
    public static MasterWeights create(Map<String, Parameter> params, boolean keepMasters, Optimizer optimizer) {
        Objects.requireNonNull(params, "MasterWeights.create: params is null");
        Objects.requireNonNull(optimizer, "MasterWeights.create: optimizer is null");
        if (params.isEmpty()) {
            throw new IllegalArgumentException("MasterWeights.create: no parameters to optimize");
        }
        return createGrouped(params, keepMasters, List.of(new ParamGroup(ParamGroup.DEFAULT, optimizer,
                List.copyOf(params.keySet()))));
    }

    /**
     * Masters and optimizer state for {@code params} in parameter groups: each parameter named by
     * exactly one group, all groups of one optimizer class.
     *
     * @param keepMasters false for the no-master ablation (16-bit parameters updated in 16 bits)
     * @throws IllegalArgumentException if {@code params} is empty, or the groups are not a partition
     *                                  of its names into non-empty groups with distinct names and one
     *                                  optimizer class (see {@link #checkGroups})
     */
    public static MasterWeights createGrouped(Map<String, Parameter> params, boolean keepMasters,
                                              List<ParamGroup> groups) {
        Objects.requireNonNull(params, "MasterWeights.createGrouped: params is null");
        Objects.requireNonNull(groups, "MasterWeights.createGrouped: groups is null");
        if (params.isEmpty()) {
            throw new IllegalArgumentException("MasterWeights.createGrouped: no parameters to optimize");
        }
        return new MasterWeights(params, keepMasters, groups,
                checkGroups("MasterWeights.createGrouped", List.copyOf(params.keySet()), groups));
    }

    /**
     * Checks that {@code groups} split {@code names} into non-empty groups with distinct names, each
     * name in exactly one group, and that every group's optimizer has the first one's class (one
     * optimizer applies one rule, as in PyTorch; two rules need two optimizers sharing a
     * {@link ScaleHolder}).
     *
     * @return the index of each name's group
     * @throws IllegalArgumentException naming the group or parameter at fault
     */
    static Map<String, Integer> checkGroups(String op, List<String> names, List<ParamGroup> groups) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException(op + ": no parameter groups");
        }
        Map<String, Integer> groupOf = new LinkedHashMap<>();
        Set<String> known = new HashSet<>(names);
        Set<String> groupNames = new HashSet<>();
        Class<?> kind = Objects.requireNonNull(groups.get(0), op + ": a group is null").optimizer().getClass();
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup pg = Objects.requireNonNull(groups.get(g), op + ": a group is null");
            if (!groupNames.add(pg.name())) {
                throw new IllegalArgumentException(op + ": two groups are named '" + pg.name() + "'; group names "
                        + "must be distinct");
            }
            if (pg.parameters().isEmpty()) {
                throw new IllegalArgumentException(op + ": group '" + pg.name() + "' has no parameters");
            }
            if (pg.optimizer().getClass() != kind) {
                throw new IllegalArgumentException(op + ": group '" + pg.name() + "' uses "
                        + pg.optimizer().getClass().getSimpleName() + " but group '" + groups.get(0).name() + "' uses "
                        + kind.getSimpleName() + "; the groups of one optimizer share its rule and differ only in "
                        + "hyper-parameters (as in PyTorch). For two rules, build two AmpOptimizers sharing a "
                        + "ScaleHolder");
            }
            for (String n : pg.parameters()) {
                if (!known.contains(n)) {
                    throw new IllegalArgumentException(op + ": group '" + pg.name() + "' names parameter '" + n
                            + "', which is not one of the " + names.size() + " parameters being optimized");
                }
                Integer before = groupOf.putIfAbsent(n, g);
                if (before != null) {
                    throw new IllegalArgumentException(op + ": parameter '" + n + "' is in two groups, '"
                            + groups.get(before).name() + "' and '" + pg.name() + "'; each parameter belongs to "
                            + "exactly one group");
                }
            }
        }
        if (groupOf.size() != names.size()) {
            List<String> missing = names.stream().filter(n -> !groupOf.containsKey(n)).toList();
            throw new IllegalArgumentException(op + ": parameters " + missing + " are in no group; every parameter "
                    + "belongs to exactly one group");
        }
        return groupOf;
    }

    /** Whether FP32 masters are kept for the 16-bit parameters. */
    public boolean keepsMasters() {
        return keepMasters;
    }

    /**
     * The optimizer of the first group (the only one without explicit groups); every group's
     * optimizer has its class.
     */
    public Optimizer optimizer() {
        return groups.get(0).optimizer();
    }

    /** The parameter groups, in order. */
    public List<ParamGroup> groups() {
        return groups;
    }

    /** The parameter names, in order. */
    public List<String> names() {
        return slots.stream().map(s -> s.name).toList();
    }

    /**
     * A copy of the FP32 master of parameter {@code name}; for an FP32 parameter, a copy of its
     * values (it is its own master).
     *
     * @throws IllegalArgumentException if there is no such parameter, or it is a 16-bit one
     *                                  without a master (no-master ablation)
     */
    public float[] master(String name) {
        Slot s = slot("MasterWeights.master", name);
        if (s.dtype == DType.FP32) {
            return s.param.value().toFloatArray();
        }
        if (!keepMasters) {
            throw new IllegalArgumentException("MasterWeights.master: parameter '" + name
                    + "' has no FP32 master (masters are off)");
        }
        return s.master.clone();
    }

    /**
     * The step count of parameter {@code name}: the updates it has received, i.e. the applied
     * steps in which it had a gradient (PyTorch's per-parameter {@code step}).
     */
    public long steps(String name) {
        return slot("MasterWeights.steps", name).steps;
    }

    /**
     * A copy of the unscaled FP32 gradient of {@code name} from the latest {@link #unscaleGradients}
     * (an FP32 gradient unscaled by 1 is read where it lies, in the parameter's gradient tensor).
     */
    public float[] gradient(String name) {
        Slot s = slot("MasterWeights.gradient", name);
        return Arrays.copyOf(s.unscaled, s.n);
    }

    /**
     * A copy of state array {@code stateName} (one of {@link Optimizer#stateNames()} of the
     * parameter's group) of {@code name}.
     */
    public float[] state(String name, String stateName) {
        Slot s = slot("MasterWeights.state", name);
        Optimizer optimizer = optimizerOf(s);
        int k = optimizer.stateNames().indexOf(stateName);
        if (k < 0) {
            throw new IllegalArgumentException("MasterWeights.state: " + optimizer + " has no state '" + stateName
                    + "'; it has " + optimizer.stateNames());
        }
        return s.state[k].clone();
    }

    private Optimizer optimizerOf(Slot s) {
        return groups.get(s.group).optimizer();
    }

    private Slot slot(String op, String name) {
        for (Slot s : slots) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException(op + ": no parameter '" + name + "'; there are " + names());
    }

    /**
     * Divides every present gradient by {@code scale} into the FP32 buffers and reports whether all
     * results are finite. Parameters without a gradient are marked as not taking part in this step.
     *
     * <p>An FP32 gradient that owns its whole storage from offset 0 (as the backward pass leaves a
     * parameter's gradient) is not copied when {@code (float) scale == 1} (FP32 training): dividing
     * by 1 changes no value, so the norm and the update read the gradient tensor itself, which
     * saves a read and a write of every gradient per step. Nothing here writes that tensor
     * (clipping scales a private copy), but the update reads it as it is when {@link #update} runs.
     *
     * @return true when every unscaled value is finite
     * @throws IllegalStateException if a parameter was replaced or converted after creation
     */
    public boolean unscaleGradients(double scale) {
        boolean finite = true;
        for (Slot s : slots) {
            s.checkBound();
            Tensor g = s.param.grad();
            s.hasGrad = g != null;
            if (g == null) {
                continue;
            }
            Tensor c = g.contiguous();
            s.unscaled = s.grad;
            // unscale, overflow check and the norm's sum of squares in one pass (see gradientNorm)
            if (c.dtype() != DType.FP32) {
                s.sumOfSquares = Unscale.unscaleSumOfSquares(c.dtype(), c.shortData(), c.storageOffset(), s.grad, 0,
                        s.n, scale);
            } else if ((float) scale == 1f && c.storageOffset() == 0 && c.floatData().length == s.n) {
                s.unscaled = c.floatData();     // g / 1 == g: read in place (bit for bit the copy's norm)
                s.sumOfSquares = Unscale.sumOfSquares(s.unscaled, 0, s.n);
            } else {
                s.sumOfSquares = Unscale.unscaleSumOfSquares(c.floatData(), c.storageOffset(), s.grad, 0, s.n, scale);
            }
            finite &= Double.isFinite(s.sumOfSquares);
        }
        return finite;
    }

    /** How many parameters had a gradient at the latest {@link #unscaleGradients}. */
    public int gradientCount() {
        int k = 0;
        for (Slot s : slots) {
            k += s.hasGrad ? 1 : 0;
        }
        return k;
    }

    /**
     * The global L2 norm of the unscaled gradients as the latest {@link #unscaleGradients} left them
     * (before any clipping), bit for bit {@link GradientClipping#globalNorm} of them.
     */
    public double gradientNorm() {
        // bit for bit GradientClipping.globalNorm of the present unscaled gradients: each slot's sum of squares was
        // formed by unscaleGradients in the blocks and order globalNorm uses, and they add in slot order
        double total = 0;
        for (Slot s : slots) {
            if (s.hasGrad) {
                total += s.sumOfSquares;
            }
        }
        return Math.sqrt(total);
    }

    /**
     * Multiplies the unscaled gradients by {@code coefficient} in FP32 (one rounding each), for
     * clipping; a gradient read in place is scaled into the private buffer, never in the tensor.
     */
    void scaleGradients(float coefficient) {
        for (Slot s : slots) {
            if (s.hasGrad) {
                float[] g = s.unscaled;
                for (int i = 0; i < s.n; i++) {
                    s.grad[i] = g[i] * coefficient;
                }
                s.unscaled = s.grad;
            }
        }
    }

    /**
     * Per-parameter statistics of this step's gradients: for an FP16 gradient those of the stored
     * (scaled) FP16 values ({@link GradientStats#ofHalf}), otherwise of the unscaled FP32 values
     * classified at {@code scaleUsed} ({@link GradientStats#of}).
     */
    Map<String, GradientStats> gradientStats(double scaleUsed) {
        Map<String, GradientStats> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            if (!s.hasGrad) {
                continue;
            }
            Tensor g = s.param.grad().contiguous();
            out.put(s.name, g.dtype() == DType.FP16
                    ? GradientStats.ofHalf(g.shortData(), g.storageOffset(), s.n, scaleUsed)
                    : GradientStats.of(s.unscaled, 0, s.n, scaleUsed));
        }
        return out;
    }

    /**
     * Applies each group's optimizer, at that group's rate, to every parameter that had a gradient,
     * from the unscaled FP32 gradients, as that parameter's next step (its {@link #steps} plus
     * one), and writes the result into the model's parameters (rounded to nearest even for 16-bit
     * ones).
     *
     * @param rates one learning rate per group, in {@link #groups()} order (one number without
     *              explicit groups)
     * @return the names of the updated parameters whose weights now hold an infinity or NaN, in
     *         order: a finite FP32 master of magnitude 65520 or more rounds to infinity in FP16,
     *         and an update can overflow FP32 itself; empty when every updated weight is finite
     * @throws IllegalArgumentException if the number of rates is not the number of groups
     */
    public List<String> update(double... rates) {
        if (rates.length != groups.size()) {
            throw new IllegalArgumentException("MasterWeights.update: " + rates.length + " learning rates for "
                    + groups.size() + " parameter groups " + groups.stream().map(ParamGroup::name).toList());
        }
        List<String> overflowed = List.of();
        for (Slot s : slots) {
            s.checkBound();
            if (!s.hasGrad) {
                continue;
            }
            Optimizer optimizer = optimizerOf(s);
            double lr = rates[s.group];
            long step = ++s.steps;
            Tensor v = s.param.value();
            boolean finite;
            if (s.dtype == DType.FP32) {
                finite = applyAndRound(s, optimizer, v.floatData(), null, lr, step);
            } else {
                float[] fp32 = keepMasters ? s.master : s.widened;
                if (!keepMasters) {
                    MasterArrays.initFromModel(s.dtype, v.shortData(), v.storageOffset(), s.widened, 0, s.n);
                }
                finite = applyAndRound(s, optimizer, fp32, v, lr, step);
            }
            if (!finite) {
                if (overflowed.isEmpty()) {
                    overflowed = new ArrayList<>();
                }
                overflowed.add(s.name);
            }
        }
        return overflowed;
    }

    /**
     * Elements per block of {@link #applyAndRound}: 16 KiB of FP32 masters, so the block is still in
     * the L1 cache when it is rounded (the size of {@link GradientClipping#BLOCK}, for the same reason).
     */
    private static final int UPDATE_BLOCK = GradientClipping.BLOCK;

    /**
     * The rule on {@code fp32} and the rounding into the 16-bit weights {@code v} (null for an FP32
     * parameter, updated in place in {@code fp32}), block by block, so that each block of masters is
     * read back from cache rather than memory. The rules are element-wise (each element's update
     * reads only that element of the param, grad and state arrays), so blocking changes no bit;
     * runs of blocks of at least {@link Grain#ELEMENTWISE} elements go to {@link Parallel#forRange}
     * (one task per thread), each block on one thread. Each updated block (rounded, for 16-bit
     * weights) is checked for infinities and NaN while it is still in cache.
     *
     * @return whether every updated weight is finite
     */
    private static boolean applyAndRound(Slot s, Optimizer optimizer, float[] fp32, Tensor v, double lr, long step) {
        int blocks = (s.n + UPDATE_BLOCK - 1) / UPDATE_BLOCK;
        short[] out = v == null ? null : v.shortData();
        int base = v == null ? 0 : v.storageOffset();
        int exp = s.dtype == DType.FP16 ? 0x7c00 : 0x7f80;   // all-ones exponent: infinity or NaN
        float[] grad = s.unscaled;
        AtomicBoolean nonFinite = new AtomicBoolean();
        Parallel.forRange(blocks, Math.max(1, Grain.ELEMENTWISE / UPDATE_BLOCK), (first, end) -> {
            boolean bad = false;
            for (int b = first; b < end; b++) {
                int from = b * UPDATE_BLOCK;
                int len = Math.min(s.n, from + UPDATE_BLOCK) - from;
                optimizer.apply(lr, step, fp32, grad, s.state, from, len);
                if (out == null) {
                    // max(m, |w|) is NaN once a w is NaN and +inf once one is infinite (vectorizes)
                    float m = 0f;
                    for (int i = from, e = from + len; i < e; i++) {
                        m = Math.max(m, Math.abs(fp32[i]));
                    }
                    bad |= !(m < Float.POSITIVE_INFINITY);
                    continue;
                }
                MasterArrays.roundToModel(s.dtype, fp32, from, out, base + from, len);
                for (int i = base + from, e = i + len; i < e; i++) {
                    bad |= (out[i] & exp) == exp;
                }
            }
            if (bad) {
                nonFinite.set(true);
            }
        });
        return !nonFinite.get();
    }

    /**
     * A copy of the masters, optimizer state and step counts, one {@link ParameterState} per
     * parameter in order: its group, the step count, the FP32 master of each 16-bit parameter when
     * masters are kept (else null), and one array per {@link Optimizer#stateNames()} entry of its
     * group's optimizer. The arrays are copies.
     */
    public List<ParameterState> snapshot() {
        List<ParameterState> out = new ArrayList<>(slots.size());
        for (Slot s : slots) {
            List<String> names = optimizerOf(s).stateNames();
            Map<String, float[]> state = new LinkedHashMap<>();
            for (int k = 0; k < names.size(); k++) {
                state.put(names.get(k), s.state[k].clone());
            }
            out.add(new ParameterState(s.name, groups.get(s.group).name(), s.param.shape(), s.steps,
                    s.master == null ? null : s.master.clone(), state));
        }
        return out;
    }

    /**
     * Restores what {@link #snapshot()} returned (the same parameters, in order, in the same
     * groups, with the same master layout and state names), after the model's parameters were
     * restored; clears the unscaled gradients. Nothing changes when a part does not match.
     *
     * @throws IllegalArgumentException if a parameter, master or state array is missing, extra, has
     *                                  the wrong length, or holds a NaN or infinite value, or a
     *                                  parameter's group differs
     */
    public void restore(List<ParameterState> from) {
        Objects.requireNonNull(from, "MasterWeights.restore: states is null");
        if (from.size() != slots.size()) {
            throw new IllegalArgumentException("MasterWeights.restore: " + from.size() + " parameter states for "
                    + slots.size() + " parameters " + names());
        }
        List<float[]> sources = new ArrayList<>();
        List<float[]> targets = new ArrayList<>();
        for (int i = 0; i < slots.size(); i++) {     // check everything before changing anything
            Slot s = slots.get(i);
            ParameterState p = Objects.requireNonNull(from.get(i), "MasterWeights.restore: a state is null");
            s.checkBound();
            if (!p.name().equals(s.name)) {
                throw new IllegalArgumentException("MasterWeights.restore: state " + i + " is for parameter '"
                        + p.name() + "', expected '" + s.name + "'");
            }
            String group = groups.get(s.group).name();
            if (!p.group().equals(group)) {
                throw new IllegalArgumentException("MasterWeights.restore: parameter '" + s.name + "' is in group '"
                        + p.group() + "' in the state but in group '" + group + "' here; restore into an optimizer "
                        + "with the same parameter groups");
            }
            Optimizer optimizer = optimizerOf(s);
            List<String> names = optimizer.stateNames();
            if ((p.master() == null) != (s.master == null)) {
                throw new IllegalArgumentException("MasterWeights.restore: parameter '" + s.name + "' "
                        + (s.master == null ? "has no FP32 master but the state holds one" : "needs an FP32 master"));
            }
            if (s.master != null) {
                sources.add(checked(s, "master", p.master()));
                targets.add(s.master);
            }
            if (!p.optimizerState().keySet().equals(new LinkedHashSet<>(names))) {
                throw new IllegalArgumentException("MasterWeights.restore: parameter '" + s.name + "' has state "
                        + p.optimizerState().keySet() + ", " + optimizer + " needs " + names);
            }
            for (int k = 0; k < names.size(); k++) {
                sources.add(checked(s, names.get(k), p.optimizerState().get(names.get(k))));
                targets.add(s.state[k]);
            }
        }
        for (int i = 0; i < sources.size(); i++) {
            System.arraycopy(sources.get(i), 0, targets.get(i), 0, targets.get(i).length);
        }
        for (int i = 0; i < slots.size(); i++) {
            slots.get(i).steps = from.get(i).steps();
        }
        for (Slot s : slots) {
            Arrays.fill(s.grad, 0f);
            s.unscaled = s.grad;
            s.hasGrad = false;
        }
    }

    private static float[] checked(Slot s, String what, float[] a) {
        if (a == null || a.length != s.n) {
            throw new IllegalArgumentException("MasterWeights.restore: " + what + " of parameter '" + s.name + "' has "
                    + (a == null ? "no values" : a.length + " values") + ", expected " + s.n);
        }
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                throw new IllegalArgumentException("MasterWeights.restore: " + what + " of parameter '" + s.name
                        + "' holds " + a[i] + " at index " + i + "; masters and optimizer state must be finite");
            }
        }
        return a;
    }

    /**
     * Re-reads every FP32 master from the model's current 16-bit weights (exact widening), e.g.
     * after weights were loaded into the model by other means.
     */
    public void resyncFromModel() {
        for (Slot s : slots) {
            s.checkBound();
            if (keepMasters && s.dtype != DType.FP32) {
                Tensor v = s.param.value();
                MasterArrays.initFromModel(s.dtype, v.shortData(), v.storageOffset(), s.master, 0, s.n);
            }
        }
    }

    @Override
    public String toString() {
        long masters = 0;
        for (Slot s : slots) {
            masters += keepMasters && s.dtype != DType.FP32 ? s.n : 0;
        }
        return "MasterWeights[parameters=" + slots.size() + ", fp32MasterValues=" + masters
                + (groups.size() == 1 && groups.get(0).name().equals(ParamGroup.DEFAULT)
                        ? ", optimizer=" + optimizer() : ", groups=" + groups) + "]";
    }

    /**
     * One parameter: its FP32 master or widening buffer (16-bit parameters only), unscaled
     * gradient and optimizer state.
     */
    private static final class Slot {
        final String name;
        final Parameter param;
        /** The index of its {@link ParamGroup}. */
        final int group;
        final DType dtype;
        final int n;
        /** The FP32 master of a 16-bit parameter when masters are kept; null otherwise. */
        final float[] master;
        /**
         * Without masters (ablation): the 16-bit weights widened to FP32 at each update, updated and
         * rounded back; null otherwise.
         */
        final float[] widened;
        /** The private FP32 buffer that unscaled gradients are written to. */
        final float[] grad;
        /**
         * Where the latest unscaled gradient is read: {@link #grad}, or the parameter's own FP32
         * gradient storage when it was unscaled by 1 (not copied; never written here).
         */
        float[] unscaled;
        final float[][] state;
        Tensor bound;
        boolean hasGrad;
        /** The sum of squares of {@link #unscaled} from the latest unscaleGradients (GradientClipping's blocks). */
        double sumOfSquares;
        /** Updates applied to this parameter (its own step count). */
        long steps;

        Slot(String name, Parameter param, int group, boolean keepMasters, int states) {
            this.name = name;
            this.param = param;
            this.group = group;
            Tensor v = param.value();
            this.dtype = v.dtype();
            this.n = v.numel();
            if (dtype == DType.FP32 && (!v.isContiguous() || v.storageOffset() != 0 || v.floatData().length != n)) {
                param.set(Tensor.of(v.toFloatArray(), v.shape()));
                v = param.value();
            }
            boolean sixteenBit = dtype != DType.FP32;
            this.master = sixteenBit && keepMasters ? new float[n] : null;
            this.widened = sixteenBit && !keepMasters ? new float[n] : null;
            if (master != null) {
                MasterArrays.initFromModel(dtype, v.shortData(), v.storageOffset(), master, 0, n);
            }
            this.grad = new float[n];
            this.unscaled = grad;
            this.state = new float[states][n];
            this.bound = v;
        }

        void checkBound() {
            if (param.value() != bound) {
                throw new IllegalStateException("MasterWeights: parameter '" + name + "' was replaced (now "
                        + param.value().dtype() + ", was " + dtype + ") after its optimizer was created; create the "
                        + "optimizer after model.to(...) and load weights through its checkpoint methods");
            }
        }
    }
}
