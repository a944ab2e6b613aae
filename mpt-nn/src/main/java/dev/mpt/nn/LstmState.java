package dev.mpt.nn;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.Objects;

/**
 * The recurrent state of an {@link Lstm}: hidden state {@code h} of shape
 * {@code [numLayers, batch, hidden]} in the layer's compute dtype, and cell state {@code c} of the
 * same shape, always FP32 (the cell state is a running sum; keeping it FP32 avoids FP16
 * accumulation error over long sequences).
 *
 * @param h hidden states, compute dtype
 * @param c cell states, FP32
 */
public record LstmState(Tensor h, Tensor c) {

    /** Validates that both are present, shaped alike and that {@code c} is FP32. */
    public LstmState {
        Objects.requireNonNull(h, "LstmState: h");
        Objects.requireNonNull(c, "LstmState: c");
        if (h.dim() != 3 || !java.util.Arrays.equals(h.shape(), c.shape())) {
            throw new IllegalArgumentException("LstmState: h and c must both be [numLayers, batch, hidden], got "
                    + java.util.Arrays.toString(h.shape()) + " and " + java.util.Arrays.toString(c.shape()));
        }
        if (c.dtype() != DType.FP32) {
            throw new IllegalArgumentException("LstmState: c must be FP32, got " + c.dtype());
        }
    }

    /** This state cut from the autograd graph (for truncated backpropagation through time). */
    public LstmState detach() {
        return new LstmState(h.detach(), c.detach());
    }
}
