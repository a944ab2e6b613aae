package dev.mpt.core.kernel;

import static dev.mpt.core.kernel.FloatMath.E0;
import static dev.mpt.core.kernel.FloatMath.E1;
import static dev.mpt.core.kernel.FloatMath.E2;
import static dev.mpt.core.kernel.FloatMath.E3;
import static dev.mpt.core.kernel.FloatMath.E4;
import static dev.mpt.core.kernel.FloatMath.E5;
import static dev.mpt.core.kernel.FloatMath.EXP_MAX;
import static dev.mpt.core.kernel.FloatMath.EXP_MIN;
import static dev.mpt.core.kernel.FloatMath.LN2_HI;
import static dev.mpt.core.kernel.FloatMath.LN2_LO;
import static dev.mpt.core.kernel.FloatMath.LOG2E;
import static dev.mpt.core.kernel.FloatMath.ROUND;
import static dev.mpt.core.kernel.FloatMath.T0;
import static dev.mpt.core.kernel.FloatMath.T1;
import static dev.mpt.core.kernel.FloatMath.T2;
import static dev.mpt.core.kernel.FloatMath.T3;
import static dev.mpt.core.kernel.FloatMath.T4;
import static dev.mpt.core.kernel.FloatMath.TANH_SMALL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Panama Vector API {@link ActivationKernel}: {@link FloatMath}'s operations lane-wise (FMA,
 * IEEE add, multiply, divide, min and max, exact bit manipulation), the tail by {@link FloatMath}.
 * Loaded by name through {@link Simd#select}; nothing on the scalar path links this class.
 */
final class VectorActivationKernel implements ActivationKernel {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final int SIGN = 0x8000_0000;
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;
    /** Float lanes as many as {@link #LONGS} has: half its width. */
    private static final VectorSpecies<Float> MASK_FLOATS = VectorSpecies.of(float.class,
            VectorShape.forBitSize(LONGS.vectorBitSize() / 2));

    /** Creates the kernel; called reflectively by {@link Simd#select}. */
    public VectorActivationKernel() {
    }

    /*
     * FloatMath.exp is written out in both loops rather than called: as a method of its own C2
     * compiled it separately (too large to inline), boxing the vectors it takes and returns
     * (StepProfile lstm: 6 MiB of Float512Vector and float[] per step). For the same reason the
     * constants are broadcast here, not by a helper of ours: no vector crosses a call C2 may keep.
     */

    @Override
    public void sigmoid(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector ln2Hi = FloatVector.broadcast(SPECIES, -LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(SPECIES, -LN2_LO);
        FloatVector e0 = FloatVector.broadcast(SPECIES, E0);
        FloatVector e1 = FloatVector.broadcast(SPECIES, E1);
        FloatVector e2 = FloatVector.broadcast(SPECIES, E2);
        FloatVector e3 = FloatVector.broadcast(SPECIES, E3);
        FloatVector e4 = FloatVector.broadcast(SPECIES, E4);
        FloatVector e5 = FloatVector.broadcast(SPECIES, E5);
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        FloatVector lo = FloatVector.broadcast(SPECIES, EXP_MIN);
        FloatVector hi = FloatVector.broadcast(SPECIES, EXP_MAX);
        FloatVector log2e = FloatVector.broadcast(SPECIES, LOG2E);
        FloatVector round = FloatVector.broadcast(SPECIES, ROUND);
        IntVector bias = IntVector.broadcast(INTS, 127);
        int end = SPECIES.loopBound(n);
        int i = 0;
        for (; i < end; i += SPECIES.length()) {
            // e = exp(-x)
            FloatVector v = FloatVector.fromArray(SPECIES, x, xo + i).neg().max(lo).min(hi);
            FloatVector kf = v.fma(log2e, round).sub(round);
            FloatVector r = kf.fma(ln2Hi, v);
            r = kf.fma(ln2Lo, r);
            FloatVector p = e0.fma(r, e1).fma(r, e2).fma(r, e3).fma(r, e4).fma(r, e5);
            FloatVector scale = ((IntVector) kf.convert(VectorOperators.F2I, 0)).add(bias)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.fma(r.mul(r), r).add(one).mul(scale);
            one.div(e.add(one)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = FloatMath.sigmoid(x[xo + i]);
        }
    }

    @Override
    public void tanh(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector ln2Hi = FloatVector.broadcast(SPECIES, -LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(SPECIES, -LN2_LO);
        FloatVector e0 = FloatVector.broadcast(SPECIES, E0);
        FloatVector e1 = FloatVector.broadcast(SPECIES, E1);
        FloatVector e2 = FloatVector.broadcast(SPECIES, E2);
        FloatVector e3 = FloatVector.broadcast(SPECIES, E3);
        FloatVector e4 = FloatVector.broadcast(SPECIES, E4);
        FloatVector e5 = FloatVector.broadcast(SPECIES, E5);
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        FloatVector lo = FloatVector.broadcast(SPECIES, EXP_MIN);
        FloatVector hi = FloatVector.broadcast(SPECIES, EXP_MAX);
        FloatVector log2e = FloatVector.broadcast(SPECIES, LOG2E);
        FloatVector round = FloatVector.broadcast(SPECIES, ROUND);
        IntVector bias = IntVector.broadcast(INTS, 127);
        FloatVector two = FloatVector.broadcast(SPECIES, 2f);
        FloatVector t0 = FloatVector.broadcast(SPECIES, T0);
        FloatVector t1 = FloatVector.broadcast(SPECIES, T1);
        FloatVector t2 = FloatVector.broadcast(SPECIES, T2);
        FloatVector t3 = FloatVector.broadcast(SPECIES, T3);
        FloatVector t4 = FloatVector.broadcast(SPECIES, T4);
        FloatVector smallLimit = FloatVector.broadcast(SPECIES, TANH_SMALL);
        IntVector signBit = IntVector.broadcast(INTS, SIGN);
        int end = SPECIES.loopBound(n);
        int i = 0;
        for (; i < end; i += SPECIES.length()) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, xo + i);
            FloatVector a = x0.abs();
            FloatVector z = x0.mul(x0);
            FloatVector q = t0.fma(z, t1).fma(z, t2).fma(z, t3).fma(z, t4);
            FloatVector small = q.mul(z).fma(x0, x0);
            // e = exp(2|x|)
            FloatVector v = a.add(a).max(lo).min(hi);
            FloatVector kf = v.fma(log2e, round).sub(round);
            FloatVector r = kf.fma(ln2Hi, v);
            r = kf.fma(ln2Lo, r);
            FloatVector p = e0.fma(r, e1).fma(r, e2).fma(r, e3).fma(r, e4).fma(r, e5);
            FloatVector scale = ((IntVector) kf.convert(VectorOperators.F2I, 0)).add(bias)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.fma(r.mul(r), r).add(one).mul(scale);
            FloatVector large = one.sub(two.div(e.add(one)));
            VectorMask<Float> isSmall = a.lt(smallLimit);
            IntVector sign = x0.reinterpretAsInts().and(signBit);
            large.blend(small, isSmall).reinterpretAsInts().or(sign).reinterpretAsFloats().intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = FloatMath.tanh(x[xo + i]);
        }
    }

    @Override
    public void expShifted(float[] x, int xo, float shift, float[] y, int yo, int n) {
        FloatVector ln2Hi = FloatVector.broadcast(SPECIES, -LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(SPECIES, -LN2_LO);
        FloatVector e0 = FloatVector.broadcast(SPECIES, E0);
        FloatVector e1 = FloatVector.broadcast(SPECIES, E1);
        FloatVector e2 = FloatVector.broadcast(SPECIES, E2);
        FloatVector e3 = FloatVector.broadcast(SPECIES, E3);
        FloatVector e4 = FloatVector.broadcast(SPECIES, E4);
        FloatVector e5 = FloatVector.broadcast(SPECIES, E5);
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector lo = FloatVector.broadcast(SPECIES, EXP_MIN);
        FloatVector hi = FloatVector.broadcast(SPECIES, EXP_MAX);
        FloatVector log2e = FloatVector.broadcast(SPECIES, LOG2E);
        FloatVector round = FloatVector.broadcast(SPECIES, ROUND);
        FloatVector minusInf = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        FloatVector sh = FloatVector.broadcast(SPECIES, shift);
        IntVector bias = IntVector.broadcast(INTS, 127);
        int end = SPECIES.loopBound(n);
        int i = 0;
        for (; i < end; i += SPECIES.length()) {
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, xo + i);
            FloatVector v = x0.sub(sh).max(lo).min(hi);
            FloatVector kf = v.fma(log2e, round).sub(round);
            FloatVector r = kf.fma(ln2Hi, v);
            r = kf.fma(ln2Lo, r);
            FloatVector p = e0.fma(r, e1).fma(r, e2).fma(r, e3).fma(r, e4).fma(r, e5);
            FloatVector scale = ((IntVector) kf.convert(VectorOperators.F2I, 0)).add(bias)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.fma(r.mul(r), r).add(one).mul(scale);
            e.blend(zero, x0.eq(minusInf)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            y[yo + i] = v == Float.NEGATIVE_INFINITY ? 0f : FloatMath.exp(v - shift);
        }
    }

    @Override
    public void dropoutMask(long seed, long index, long threshold, float keep, float[] z, int zo, int n) {
        LongVector iota = LongVector.zero(LONGS).addIndex(1);
        LongVector golden = LongVector.broadcast(LONGS, 0x9e3779b97f4a7c15L);
        LongVector m1 = LongVector.broadcast(LONGS, 0xbf58476d1ce4e5b9L);
        LongVector m2 = LongVector.broadcast(LONGS, 0x94d049bb133111ebL);
        FloatVector kept = FloatVector.broadcast(MASK_FLOATS, keep);
        FloatVector dropped = FloatVector.zero(MASK_FLOATS);
        int lanes = LONGS.length();
        int end = LONGS.loopBound(n);
        int i = 0;
        for (; i < end; i += lanes) {
            LongVector x = iota.add(index + i + 1).mul(golden).add(seed);
            x = x.lanewise(VectorOperators.XOR, x.lanewise(VectorOperators.LSHR, 30)).mul(m1);
            x = x.lanewise(VectorOperators.XOR, x.lanewise(VectorOperators.LSHR, 27)).mul(m2);
            x = x.lanewise(VectorOperators.XOR, x.lanewise(VectorOperators.LSHR, 31)).lanewise(VectorOperators.LSHR, 11);
            VectorMask<Long> keepLane = x.compare(VectorOperators.GE, threshold);
            dropped.blend(kept, keepLane.cast(MASK_FLOATS)).intoArray(z, zo + i);
        }
        for (; i < n; i++) {
            z[zo + i] = (ActivationKernel.dropoutHash(seed, index + i) >>> 11) >= threshold ? keep : 0f;
        }
    }
}
