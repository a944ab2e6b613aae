package dev.mpt.optim.train;

import dev.mpt.core.number.DType;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.AmpState;
import dev.mpt.optim.amp.ParamGroup;
import dev.mpt.optim.amp.ParameterState;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.scaling.ScalerState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The safetensors layout of an {@link AmpOptimizer}'s {@link AmpState}, under a name prefix so
 * that several optimizers (a GAN's) share one file:
 * <ul>
 *   <li>tensors (FP32, the parameter's shape): {@code prefix + "master." + name} for each 16-bit
 *       parameter with a master, {@code prefix + "state." + name + "." + stateName} for each
 *       optimizer state array, parameter by parameter in the optimizer's order;</li>
 *   <li>metadata: {@code prefix + "appliedSteps"}, {@code prefix + "attemptedSteps"},
 *       {@code prefix + "steps." + name} for each parameter's own step count,
 *       {@code prefix + "optimizer"} (its {@code toString()}, informative only),
 *       {@code prefix + "precision"}, and {@code prefix + "scaler." + key} for each key of
 *       {@link ScalerState#toMap()};</li>
 *   <li>metadata of an optimizer with parameter groups ({@link AmpOptimizer.Builder#group}; not
 *       written for one {@link ParamGroup#DEFAULT} group, so those files keep the layout above):
 *       {@code prefix + "group." + name}, the group of each parameter, and
 *       {@code prefix + "groupOptimizer." + group}, each group's optimizer (informative only).</li>
 * </ul>
 * {@link Trainer#save} uses it with prefix {@code "optim."}.
 *
 * <p>Files written before the per-parameter step counts existed have no {@code steps.} keys;
 * reading one sets every parameter's count to {@code appliedSteps} (exact when every parameter
 * had a gradient in every applied step, which was what those versions assumed) and logs that it
 * did so. A file without {@code group.} keys restores only into an optimizer with one
 * {@link ParamGroup#DEFAULT} group, and a file with them only into one with the same groups.
 */
public final class OptimizerCheckpoint {

    private static final String MASTER = "master.";
    private static final String STATE = "state.";
    private static final String APPLIED = "appliedSteps";
    private static final String ATTEMPTED = "attemptedSteps";
    private static final String OPTIMIZER = "optimizer";
    private static final String PRECISION = "precision";
    private static final String SCALER = "scaler.";
    private static final String STEPS = "steps.";
    private static final String GROUP = "group.";
    private static final String GROUP_OPTIMIZER = "groupOptimizer.";

    private static final Logger LOG = LoggerFactory.getLogger(OptimizerCheckpoint.class);

    private OptimizerCheckpoint() {
    }

    /** Adds {@code opt}'s state to {@code tensors} and {@code metadata}, every name starting with {@code prefix}. */
    public static void write(String prefix, AmpOptimizer opt, List<NamedTensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(prefix, "OptimizerCheckpoint.write: prefix is null");
        Objects.requireNonNull(opt, "OptimizerCheckpoint.write: optimizer is null");
        Objects.requireNonNull(tensors, "OptimizerCheckpoint.write: tensors is null");
        Objects.requireNonNull(metadata, "OptimizerCheckpoint.write: metadata is null");
        AmpState s = opt.state();
        List<ParamGroup> groups = opt.groups();
        boolean grouped = groups.size() > 1 || !groups.get(0).name().equals(ParamGroup.DEFAULT);
        for (ParameterState p : s.parameters()) {
            metadata.put(prefix + STEPS + p.name(), Long.toString(p.steps()));
            if (grouped) {
                metadata.put(prefix + GROUP + p.name(), p.group());
            }
            if (p.master() != null) {
                tensors.add(NamedTensor.ofFloats(prefix + MASTER + p.name(), p.shape(), p.master()));
            }
            p.optimizerState().forEach((stateName, values) ->
                    tensors.add(NamedTensor.ofFloats(prefix + STATE + p.name() + "." + stateName, p.shape(), values)));
        }
        metadata.put(prefix + APPLIED, Long.toString(s.appliedSteps()));
        metadata.put(prefix + ATTEMPTED, Long.toString(s.attemptedSteps()));
        metadata.put(prefix + OPTIMIZER, opt.optimizer().toString());
        if (grouped) {
            groups.forEach(g -> metadata.put(prefix + GROUP_OPTIMIZER + g.name(), g.optimizer().toString()));
        }
        metadata.put(prefix + PRECISION, s.precision().name());
        s.scaler().toMap().forEach((k, v) -> metadata.put(prefix + SCALER + k, v));
    }

    /**
     * Restores into {@code opt} what {@link #write} wrote, after the model's parameters were
     * restored; clears the gradients and starts a new step. Nothing changes when the file does not
     * match.
     *
     * @throws IllegalArgumentException if the checkpoint was written with another precision or
     *                                  other parameter groups, or misses a tensor or key, or a tensor
     *                                  has the wrong dtype or shape
     */
    public static void read(String prefix, SafetensorsFile file, AmpOptimizer opt) {
        Objects.requireNonNull(prefix, "OptimizerCheckpoint.read: prefix is null");
        Objects.requireNonNull(file, "OptimizerCheckpoint.read: file is null");
        Objects.requireNonNull(opt, "OptimizerCheckpoint.read: optimizer is null");
        Map<String, String> meta = file.metadata();
        String p = meta(meta, prefix + PRECISION);
        if (!p.equals(opt.precision().name())) {
            throw new IllegalArgumentException("OptimizerCheckpoint.read: checkpoint precision " + p
                    + " differs from this optimizer's " + opt.precision());
        }
        long applied = count(meta, prefix + APPLIED);
        long attempted = count(meta, prefix + ATTEMPTED);
        Map<String, String> scaler = new LinkedHashMap<>();
        meta.forEach((k, v) -> {
            if (k.startsWith(prefix + SCALER)) {
                scaler.put(k.substring((prefix + SCALER).length()), v);
            }
        });
        List<ParameterState> layouts = opt.masterWeights().snapshot();   // names, shapes, which arrays
        boolean derive = layouts.stream().noneMatch(l -> meta.containsKey(prefix + STEPS + l.name()));
        if (derive) {
            LOG.info("OptimizerCheckpoint.read: the checkpoint has no per-parameter step counts ({}steps.*; written "
                    + "by an earlier mpt); each parameter's count is set to the optimizer's {} applied steps, exact "
                    + "when every parameter had a gradient in every applied step", prefix, applied);
        }
        boolean grouped = layouts.stream().anyMatch(l -> meta.containsKey(prefix + GROUP + l.name()));
        List<ParameterState> params = new ArrayList<>();
        for (ParameterState layout : layouts) {
            String name = layout.name();
            String group = grouped ? meta(meta, prefix + GROUP + name) : ParamGroup.DEFAULT;
            long steps = derive ? applied : count(meta, prefix + STEPS + name);
            float[] master = layout.master() == null ? null
                    : floats(file.tensor(prefix + MASTER + name), layout.shape());
            Map<String, float[]> state = new LinkedHashMap<>();
            for (String stateName : layout.optimizerState().keySet()) {
                state.put(stateName, floats(file.tensor(prefix + STATE + name + "." + stateName), layout.shape()));
            }
            params.add(new ParameterState(name, group, layout.shape(), steps, master, state));
        }
        checkNoOtherTensors(prefix, file, params);
        opt.restore(new AmpState(Precision.valueOf(p), applied, attempted, ScalerState.fromMap(scaler), params));
    }

    /**
     * Refuses masters or state arrays under {@code prefix} for parameters this optimizer does not
     * have (a checkpoint of a larger model): restoring the rest would mix two models.
     */
    private static void checkNoOtherTensors(String prefix, SafetensorsFile file, List<ParameterState> params) {
        Set<String> expected = new HashSet<>();
        for (ParameterState ps : params) {
            if (ps.master() != null) {
                expected.add(prefix + MASTER + ps.name());
            }
            ps.optimizerState().keySet().forEach(k -> expected.add(prefix + STATE + ps.name() + "." + k));
        }
        List<String> unexpected = new ArrayList<>();
        for (String n : file.names()) {
            if ((n.startsWith(prefix + MASTER) || n.startsWith(prefix + STATE)) && !expected.contains(n)) {
                unexpected.add(n);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new IllegalArgumentException("OptimizerCheckpoint.read: the checkpoint holds optimizer tensors for "
                    + "parameters this optimizer does not have: " + unexpected);
        }
    }

    private static float[] floats(NamedTensor t, int[] shape) {
        if (t.dtype() != DType.FP32 || !Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("OptimizerCheckpoint.read: tensor '" + t.name() + "' is " + t.dtype()
                    + Arrays.toString(t.shape()) + ", expected FP32" + Arrays.toString(shape));
        }
        return t.floats();
    }

    private static String meta(Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) {
            throw new IllegalArgumentException("OptimizerCheckpoint.read: metadata key '" + key + "' is missing");
        }
        return v;
    }

    private static long count(Map<String, String> meta, String key) {
        String v = meta(meta, key);
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new IllegalArgumentException("OptimizerCheckpoint.read: " + key + " must be >= 0, got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("OptimizerCheckpoint.read: " + key + " is not a count: '" + v + "'", e);
        }
    }
}
