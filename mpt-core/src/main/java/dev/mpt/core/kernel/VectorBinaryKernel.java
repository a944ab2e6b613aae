package dev.mpt.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Panama Vector API {@link BinaryKernel}: ADD, SUB, MUL, DIV, MAX and MIN a vector at a time
 * (lane-wise IEEE operations, correctly rounded like the scalar ones; MAX and MIN as
 * {@link Math#max(float, float)} and {@link Math#min(float, float)}), the tail and the other ops by
 * {@link BinaryOp#apply}. Loaded by name through {@link Simd#select}; nothing on the scalar path
 * links this class.
 */
final class VectorBinaryKernel implements BinaryKernel {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /** Creates the kernel; called reflectively by {@link Simd#select}. */
    public VectorBinaryKernel() {
    }

    @Override
    public void apply(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int end = SPECIES.loopBound(n);
        int step = SPECIES.length();
        int i = 0;
        // one loop per op: the Vector API compiles to SIMD instructions only for a constant operator;
        // fromArray is called directly, not through a helper of ours that C2 might leave out of line
        // (vectors crossing a call are boxed: see VectorGemmKernel)
        switch (op) {
            case ADD -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(SPECIES, a, ao + i)
                            .add(FloatVector.fromArray(SPECIES, b, bo + i)).intoArray(o, oo + i);
                }
            }
            case SUB -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(SPECIES, a, ao + i)
                            .sub(FloatVector.fromArray(SPECIES, b, bo + i)).intoArray(o, oo + i);
                }
            }
            case MUL -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(SPECIES, a, ao + i)
                            .mul(FloatVector.fromArray(SPECIES, b, bo + i)).intoArray(o, oo + i);
                }
            }
            case DIV -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(SPECIES, a, ao + i)
                            .div(FloatVector.fromArray(SPECIES, b, bo + i)).intoArray(o, oo + i);
                }
            }
            case MAX -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(SPECIES, a, ao + i)
                            .max(FloatVector.fromArray(SPECIES, b, bo + i)).intoArray(o, oo + i);
                }
            }
            case MIN -> {
                for (; i < end; i += step) {
                    FloatVector.fromArray(SPECIES, a, ao + i)
                            .min(FloatVector.fromArray(SPECIES, b, bo + i)).intoArray(o, oo + i);
                }
            }
            default -> {
                // comparisons: the scalar row loop
            }
        }
        if (i < n) {
            op.apply(a, ao + i, b, bo + i, o, oo + i, n - i);
        }
    }
}
