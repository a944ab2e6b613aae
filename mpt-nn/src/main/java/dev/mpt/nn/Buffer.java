package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * A non-trainable tensor slot of a {@link Module} that is part of its state (running statistics
 * of a normalization layer, for example): saved in checkpoints, never given a gradient, and kept
 * FP32 by {@link Module#to(dev.mpt.core.number.DType)}.
 */
public final class Buffer {

    private Tensor value;

    Buffer(Tensor value) {
        set(value);
    }

    /** The current tensor. */
    public Tensor value() {
        return value;
    }

    /** Replaces the tensor (detached, same shape once set). */
    public void set(Tensor t) {
        Objects.requireNonNull(t, "buffer value");
        if (value != null && !Arrays.equals(value.shape(), t.shape())) {
            throw new IllegalArgumentException("buffer: new value shape " + Arrays.toString(t.shape())
                    + " differs from " + Arrays.toString(value.shape()));
        }
        value = t.contiguous().detach();
    }

    @Override
    public String toString() {
        return "Buffer" + Arrays.toString(value.shape()) + " " + value.dtype();
    }
}
