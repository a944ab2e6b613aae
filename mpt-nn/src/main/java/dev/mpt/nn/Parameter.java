package dev.mpt.nn;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * A trainable tensor slot of a {@link Module}. The slot's tensor is a leaf that requires a
 * gradient; {@link Module#to(DType)} and the optimizer may replace it ({@link #set(Tensor)}) or
 * write into its storage, so layers read {@link #value()} on every forward pass rather than
 * keeping the tensor.
 *
 * <p>A parameter marked {@link #keepsFp32()} (normalization scales and shifts) stays FP32 when
 * its module is converted to a 16-bit precision, as the paper and common practice prescribe.
 */
public final class Parameter {

    private final boolean keepFp32;
    private Tensor value;

    Parameter(Tensor value, boolean keepFp32) {
        this.keepFp32 = keepFp32;
        set(value);
    }

    /** The current tensor: a leaf with {@code requiresGrad() == true}. */
    public Tensor value() {
        return value;
    }

    /** The accumulated gradient of {@link #value()}, in its dtype, or null before any backward. */
    public Tensor grad() {
        return value.grad();
    }

    /** The dtype of {@link #value()}. */
    public DType dtype() {
        return value.dtype();
    }

    /** The shape of {@link #value()}. */
    public int[] shape() {
        return value.shape();
    }

    /** Whether this parameter stays FP32 when its module is converted to FP16 or BF16. */
    public boolean keepsFp32() {
        return keepFp32;
    }

    /**
     * Replaces the tensor with {@code t} detached from any graph and marked as requiring a gradient.
     * The shape must stay the same once set.
     */
    public void set(Tensor t) {
        Objects.requireNonNull(t, "parameter value");
        if (value != null && !Arrays.equals(value.shape(), t.shape())) {
            throw new IllegalArgumentException("parameter: new value shape " + Arrays.toString(t.shape())
                    + " differs from " + Arrays.toString(value.shape()));
        }
        Tensor leaf = t.isLeaf() && t.isContiguous() ? t : t.contiguous().detach();
        value = leaf.requiresGrad(true);
    }

    @Override
    public String toString() {
        return "Parameter" + Arrays.toString(value.shape()) + " " + value.dtype() + (keepFp32 ? " (kept FP32)" : "");
    }
}
