package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.Objects;

/**
 * The result of {@link Lstm#forward(Tensor, LstmState)}: the last layer's hidden state at every
 * step ({@code [batch, time, hidden]} when batch-first, else {@code [time, batch, hidden]}, in the
 * compute dtype) and the state after the last step, to pass to the next call.
 *
 * @param output hidden states of the last layer at every step
 * @param state  the state after the last step
 */
public record LstmOutput(Tensor output, LstmState state) {

    /** Validates that both are present. */
    public LstmOutput {
        Objects.requireNonNull(output, "LstmOutput: output");
        Objects.requireNonNull(state, "LstmOutput: state");
    }
}
