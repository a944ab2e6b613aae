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
 * @param shape          the parameter's shape
 * @param master         its FP32 master (16-bit parameters with masters kept), else null
 * @param optimizerState one FP32 array per {@link dev.mpt.optim.Optimizer#stateNames()} entry, in
 *                       that order (e.g. {@code momentum}); empty for a stateless optimizer
 */
public record ParameterState(String name, int[] shape, float[] master, Map<String, float[]> optimizerState) {

    /** Checks that nothing but the master is null; keeps the state's order. */
    public ParameterState {
        Objects.requireNonNull(name, "ParameterState: name is null");
        Objects.requireNonNull(shape, "ParameterState: shape is null");
        optimizerState = Collections.unmodifiableMap(new LinkedHashMap<>(
                Objects.requireNonNull(optimizerState, "ParameterState: optimizerState is null")));
    }
}
