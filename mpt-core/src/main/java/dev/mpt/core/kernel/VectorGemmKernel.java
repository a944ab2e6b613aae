package dev.mpt.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Panama Vector API GEMM micro-kernel: a 6 x (2 * lanes) register block of FP32 accumulators
 * (6 x 16 with 256-bit AVX2, 6 x 32 with AVX-512), updated with fused multiply-adds. Twelve
 * accumulator vectors, two B vectors and one broadcast A value fill the 16 AVX2 registers.
 *
 * <p>Loaded by name through {@link Simd#select}; nothing on the scalar path links this class.
 */
final class VectorGemmKernel implements GemmKernel {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int L = SPECIES.length();
    /** Register block height. */
    static final int MR = 6;
    /** Register block width: two vectors. */
    static final int NR = 2 * L;

    /** Public for {@link Simd#select}. */
    public VectorGemmKernel() {
    }

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    /*
     * The naive loop this unrolls:
     *   for (i < MR) for (j < NR) { float acc = accumulate ? w[i][j] : 0;
     *                               for (p < kc) acc = fma(a[p*MR + i], b[p*NR + j], acc); w[i][j] = acc; }
     */
    @Override
    public void multiply(int kc, float[] a, int aOff, float[] b, int bOff, float[] w, int wOff, int ldw,
                         boolean accumulate) {
        int w0 = wOff;
        int w1 = w0 + ldw;
        int w2 = w1 + ldw;
        int w3 = w2 + ldw;
        int w4 = w3 + ldw;
        int w5 = w4 + ldw;
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate) {
            c00 = FloatVector.fromArray(SPECIES, w, w0); c01 = FloatVector.fromArray(SPECIES, w, w0 + L);
            c10 = FloatVector.fromArray(SPECIES, w, w1); c11 = FloatVector.fromArray(SPECIES, w, w1 + L);
            c20 = FloatVector.fromArray(SPECIES, w, w2); c21 = FloatVector.fromArray(SPECIES, w, w2 + L);
            c30 = FloatVector.fromArray(SPECIES, w, w3); c31 = FloatVector.fromArray(SPECIES, w, w3 + L);
            c40 = FloatVector.fromArray(SPECIES, w, w4); c41 = FloatVector.fromArray(SPECIES, w, w4 + L);
            c50 = FloatVector.fromArray(SPECIES, w, w5); c51 = FloatVector.fromArray(SPECIES, w, w5 + L);
        } else {
            FloatVector z = FloatVector.zero(SPECIES);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z;
            c30 = z; c31 = z; c40 = z; c41 = z; c50 = z; c51 = z;
        }
        for (int p = 0; p < kc; p++) {
            int ao = aOff + p * MR;
            int bo = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bo);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bo + L);
            FloatVector x = FloatVector.broadcast(SPECIES, a[ao]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(SPECIES, a[ao + 1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(SPECIES, a[ao + 2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(SPECIES, a[ao + 3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(SPECIES, a[ao + 4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(SPECIES, a[ao + 5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
        c00.intoArray(w, w0); c01.intoArray(w, w0 + L);
        c10.intoArray(w, w1); c11.intoArray(w, w1 + L);
        c20.intoArray(w, w2); c21.intoArray(w, w2 + L);
        c30.intoArray(w, w3); c31.intoArray(w, w3 + L);
        c40.intoArray(w, w4); c41.intoArray(w, w4 + L);
        c50.intoArray(w, w5); c51.intoArray(w, w5 + L);
    }
}
