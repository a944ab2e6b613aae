package dev.mpt.nn.checkpoint;

import dev.mpt.core.number.DType;

/**
 * How loading a checkpoint treats a tensor stored in another dtype than its slot in the model
 * ({@link LoadOptions#conversion}). PyTorch's {@code load_state_dict} converts silently in every
 * direction; mpt converts silently only where no value can change, and rounds only when asked.
 */
public enum Conversion {

    /**
     * The default: the same dtype, or an exact widening (FP16 or BF16 into an FP32 slot, every value
     * kept). Any other pair is refused with a message naming the tensor, both dtypes and
     * {@link #ROUND}.
     */
    LOSSLESS,

    /**
     * Also the lossy pairs, each element rounded once to nearest even: FP32 into FP16 or BF16, and
     * FP16 and BF16 into each other (widened exactly to FP32, then rounded once, so the result is
     * correctly rounded). A value beyond the slot's range (above 65504 into FP16) becomes infinite,
     * and the load is refused like any non-finite value.
     */
    ROUND;

    /** Whether a tensor stored as {@code from} may be loaded into a slot of dtype {@code to}. */
    public boolean allows(DType from, DType to) {
        return from == to || to == DType.FP32 || this == ROUND;
    }
}
