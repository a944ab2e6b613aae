package dev.mpt.optim.amp;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.number.DType;

import java.util.Objects;

/**
 * The array side of FP32 master weights (Micikevicius et al., ICLR 2018, section 3.1): the
 * optimizer updates an FP32 master copy, and the FP16/BF16 copy the model computes with is
 * rounded from it after every update. An update smaller than half an FP16 ulp of its weight
 * (2^-11 relative) would vanish if added to the FP16 weight directly; added to the FP32 master
 * it is kept, and successive small updates accumulate until the rounded FP16 copy moves.
 */
public final class MasterArrays {

    private MasterArrays() {
    }

    /**
     * Creates the FP32 master values from the model's 16-bit values:
     * {@code master[masterOff+i] = (float) model[modelOff+i]} (exact).
     *
     * @throws IllegalArgumentException  if {@code dtype} is not FP16 or BF16
     * @throws IndexOutOfBoundsException if a range falls outside its array
     */
    public static void initFromModel(DType dtype, short[] model, int modelOff, float[] master, int masterOff,
                                     int len) {
        requireHalfWidth("MasterArrays.initFromModel", dtype);
        Objects.requireNonNull(model, "MasterArrays.initFromModel: model is null");
        Objects.requireNonNull(master, "MasterArrays.initFromModel: master is null");
        if (dtype == DType.FP16) {
            Convert.halfToFloat(model, modelOff, master, masterOff, len);
        } else {
            Convert.bfloat16ToFloat(model, modelOff, master, masterOff, len);
        }
    }

    /**
     * Rounds the FP32 master values into the model's 16-bit copy, to nearest even:
     * {@code model[modelOff+i] = dtype(master[masterOff+i])}.
     *
     * @throws IllegalArgumentException  if {@code dtype} is not FP16 or BF16
     * @throws IndexOutOfBoundsException if a range falls outside its array
     */
    public static void roundToModel(DType dtype, float[] master, int masterOff, short[] model, int modelOff,
                                    int len) {
        requireHalfWidth("MasterArrays.roundToModel", dtype);
        Objects.requireNonNull(master, "MasterArrays.roundToModel: master is null");
        Objects.requireNonNull(model, "MasterArrays.roundToModel: model is null");
        if (dtype == DType.FP16) {
            Convert.floatToHalf(master, masterOff, model, modelOff, len);
        } else {
            Convert.floatToBFloat16(master, masterOff, model, modelOff, len);
        }
    }

    /**
     * Adds an update to the FP32 masters and refreshes the 16-bit copy:
     * {@code master[i] += update[i]} in FP32, then {@code model[i] = dtype(master[i])}, for
     * {@code i} in {@code [off, off+len)} of all three arrays.
     *
     * @throws IllegalArgumentException  if {@code dtype} is not FP16 or BF16
     * @throws IndexOutOfBoundsException if the range falls outside an array
     */
    public static void applyUpdate(DType dtype, float[] master, float[] update, short[] model, int off, int len) {
        requireHalfWidth("MasterArrays.applyUpdate", dtype);
        Objects.requireNonNull(master, "MasterArrays.applyUpdate: master is null");
        Objects.requireNonNull(update, "MasterArrays.applyUpdate: update is null");
        Objects.requireNonNull(model, "MasterArrays.applyUpdate: model is null");
        Objects.checkFromIndexSize(off, len, master.length);
        Objects.checkFromIndexSize(off, len, update.length);
        Objects.checkFromIndexSize(off, len, model.length);
        for (int i = off; i < off + len; i++) {
            master[i] += update[i];
        }
        roundToModel(dtype, master, off, model, off, len);
    }

    private static void requireHalfWidth(String op, DType dtype) {
        Objects.requireNonNull(dtype, op + ": dtype is null");
        if (!dtype.isHalfWidth()) {
            throw new IllegalArgumentException(op + ": the model copy must be FP16 or BF16, got " + dtype);
        }
    }
}
