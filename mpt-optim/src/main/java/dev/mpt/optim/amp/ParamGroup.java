package dev.mpt.optim.amp;

import dev.mpt.optim.Optimizer;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * One parameter group of an {@link AmpOptimizer} (PyTorch's {@code param_groups}): the parameters
 * one {@link Optimizer} value updates, with that optimizer's hyper-parameters and learning-rate
 * schedule. All groups of one {@code AmpOptimizer} apply the same rule (the same optimizer class,
 * e.g. {@link dev.mpt.optim.AdamW} with and without weight decay) and share its loss scale,
 * overflow decision and global-norm clipping; see {@link AmpOptimizer.Builder#group}.
 *
 * @param name       the group's name, unique within its optimizer (recorded in checkpoints)
 * @param optimizer  rule, hyper-parameters and schedule of this group
 * @param parameters the names of its parameters, in the optimizer's parameter order
 */
public record ParamGroup(String name, Optimizer optimizer, List<String> parameters) {

    /**
     * The name of the group an {@link AmpOptimizer} built with a plain optimizer
     * ({@link AmpOptimizer.Builder#optimizer}) puts every parameter in that no explicit group names.
     */
    public static final String DEFAULT = "default";

    /** Checks the parts: a non-blank name, an optimizer, and distinct non-null parameter names. */
    public ParamGroup {
        Objects.requireNonNull(name, "ParamGroup: name is null");
        if (name.isBlank()) {
            throw new IllegalArgumentException("ParamGroup: name is blank");
        }
        Objects.requireNonNull(optimizer, () -> "ParamGroup '" + name + "': optimizer is null");
        parameters = List.copyOf(Objects.requireNonNull(parameters, () -> "ParamGroup '" + name + "': parameters is null"));
        if (new HashSet<>(parameters).size() != parameters.size()) {
            throw new IllegalArgumentException("ParamGroup '" + name + "': a parameter is named twice in " + parameters);
        }
    }

    @Override
    public String toString() {
        return name + ": " + optimizer + " (" + parameters.size() + " parameters)";
    }
}
