package dev.mpt.optim.amp;

import dev.mpt.core.number.DType;
import dev.mpt.optim.scaling.LossScaler;

/**
 * How a model is trained: the dtype of its weights, activations and gradients, whether FP32
 * master weights are kept, and whether the loss is scaled (Micikevicius et al., "Mixed Precision
 * Training", ICLR 2018). Parameters registered as FP32 (normalization layers) stay FP32 in every
 * precision and are updated directly.
 */
public enum Precision {

    /** Everything in FP32; no masters (the weights are FP32 already), no loss scaling. The baseline. */
    FP32(DType.FP32, false, false),

    /**
     * The paper's recipe: FP16 weights, activations and gradients (FP32 accumulation in the
     * kernels), an FP32 master copy of every FP16 weight that receives the update and is rounded
     * into the FP16 weights after each step, and dynamic loss scaling so small gradients do not
     * flush to zero.
     */
    MIXED_FP16(DType.FP16, true, true),

    /**
     * BF16 weights, activations and gradients with FP32 masters. BF16 has FP32's exponent range,
     * so gradients do not underflow and loss scaling is off by default (a scaler may still be
     * set); its 8-bit significand makes the masters essential.
     */
    MIXED_BF16(DType.BF16, true, false),

    /**
     * Ablation: FP16 weights updated in place, without masters: each update is computed in FP32
     * from the FP16 weight and rounded back to FP16, so an update smaller than half an FP16 ulp of
     * its weight vanishes (the paper's section 3.1). Loss scaling stays on, to isolate the effect
     * of the masters. Optimizer state (momentum, moments) is still FP32.
     */
    FP16_NO_MASTER(DType.FP16, false, true),

    /**
     * Ablation: FP16 weights with FP32 masters but no loss scaling (scale fixed at 1): gradients
     * below FP16's smallest subnormal 2^-24 flush to zero in the backward pass (the paper's
     * section 3.2, Figure 3).
     */
    FP16_NO_SCALING(DType.FP16, true, false);

    private final DType dtype;
    private final boolean masters;
    private final boolean scaling;

    Precision(DType dtype, boolean masters, boolean scaling) {
        this.dtype = dtype;
        this.masters = masters;
        this.scaling = scaling;
    }

    /** The dtype the model's (non-FP32) parameters and the inputs are converted to. */
    public DType modelDtype() {
        return dtype;
    }

    /** Whether FP32 master copies of the 16-bit parameters receive the updates. */
    public boolean usesMasterWeights() {
        return masters;
    }

    /** Whether the loss is scaled by default (a dynamic scaler); otherwise the scale is fixed at 1. */
    public boolean scalesLossByDefault() {
        return scaling;
    }

    /** Whether this precision accepts a loss scaler other than a fixed scale of 1. */
    public boolean allowsLossScaling() {
        return this != FP32 && this != FP16_NO_SCALING;
    }

    /** The scaler used when none is set: {@link LossScaler#dynamic()} or {@link LossScaler#fixed} at 1. */
    public LossScaler defaultScaler() {
        return scaling ? LossScaler.dynamic() : LossScaler.fixed(1);
    }
}
