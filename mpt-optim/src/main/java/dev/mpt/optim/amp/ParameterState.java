package dev.mpt.optim.amp;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The FP32 arrays {@link MasterWeights} keeps for one parameter, as a value: what a checkpoint
 * saves and restores. The arrays are not copied here; {@link MasterWeights#snapshot()} hands out
 * copies and {@link MasterWeights#restore} copies out of them.
 *
 * @param name           the parameter's name ({@link dev.mpt.nn.Module#namedParameters()})
 * @param group          the name of its {@link ParamGroup} ({@link ParamGroup#DEFAULT} in an
 *                       optimizer without explicit groups); a restore requires the same
 * @param shape          the parameter's shape
 * @param steps          the parameter's own step count: the applied steps in which it had a
 *                       gradient (PyTorch's per-parameter {@code step}); drives Adam's bias
 *                       corrections and SGD's first momentum step
 * @param master         its FP32 master (16-bit parameters with masters kept), else null
 * @param optimizerState one FP32 array per {@link dev.mpt.optim.Optimizer#stateNames()} entry, in
 *                       that order (e.g. {@code momentum}); empty for a stateless optimizer
 */
public record ParameterState(String name, String group, int[] shape, long steps, float[] master,
                             Map<String, float[]> optimizerState) {

    /** Checks that nothing but the master is null and the count is {@code >= 0}; keeps the state's order. */
    public ParameterState {
        Objects.requireNonNull(name, "ParameterState: name is null");
        Objects.requireNonNull(group, () -> "ParameterState: group of parameter '" + name + "' is null");
        Objects.requireNonNull(shape, "ParameterState: shape is null");
        if (steps < 0) {
            throw new IllegalArgumentException("ParameterState: steps of parameter '" + name + "' must be >= 0, got "
                    + steps);
        }
        optimizerState = Collections.unmodifiableMap(new LinkedHashMap<>(
                Objects.requireNonNull(optimizerState, "ParameterState: optimizerState is null")));
    }

    /** The state of a parameter in the {@link ParamGroup#DEFAULT} group (an optimizer without explicit groups). */
    public ParameterState(String name, int[] shape, long steps, float[] master, Map<String, float[]> optimizerState) {
        this(name, ParamGroup.DEFAULT, shape, steps, master, optimizerState);
    }
}
