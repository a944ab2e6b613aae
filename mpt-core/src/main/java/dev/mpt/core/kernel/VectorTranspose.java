package dev.mpt.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API {@link TransposeKernel} for 512-bit vectors (AVX-512): a block of 16 rows x 16
 * columns is loaded as 16 row vectors, transposed in registers and stored as 16 column runs, one
 * 64-byte store each; slivers narrower than 16 (the 8-row A slivers of the 8 x 48 GEMM kernel)
 * take 8 x 8 blocks of 256-bit vectors. The in-register transpose is a butterfly: for
 * {@code b = n/2, n/4, .., 1}, rows {@code i} and {@code i + b} (bit b of i clear) swap their
 * off-diagonal b x b blocks, each new row one two-vector permute ({@code selectFrom(v1, v2)},
 * {@code vpermi2ps}/{@code vpermt2ps}): {@code n log2 n} permutes per n x n block. Columns past the
 * last full block run the plain loop.
 *
 * <p>Packing the forward pass's {@code W^T} (1024 x 784 into 48-wide slivers) took 0.14-0.15 ns per
 * element this way against 0.40-0.43 for {@link ScalarTranspose}'s 8-row groups (throwaway
 * harness, thread CPU time, 2-core Zen 5 VM shared with other builds). With narrower vectors
 * (AVX2) this class runs the plain loop: the two-vector permute was not measured there.
 *
 * <p>Loaded by name through {@link Simd#select}; nothing on the scalar path links this class. As
 * in {@code VectorGemmKernel}, no vector crosses a method of ours.
 */
final class VectorTranspose implements TransposeKernel {

    private static final VectorSpecies<Float> S16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    /** Whether this JVM's preferred vectors have 16 float lanes, so the 16- and 8-lane permutes are native. */
    private static final boolean WIDE = FloatVector.SPECIES_PREFERRED.length() >= 16;

    /*
     * Permute indices of the butterfly stages: LO<n>_<b>[j] and HI<n>_<b>[j] pick, from the pair
     * (x, y) = (row i, row i + b) seen as one 2n-lane vector, the new row i and row i + b:
     * LO[j] = j & b == 0 ? j : n + j - b (x's own block, then y's first block),
     * HI[j] = j & b == 0 ? j + b : n + j (x's second block, then y's own block).
     */
    private static final float[] LO16_8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    private static final float[] HI16_8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    private static final float[] LO16_4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
    private static final float[] HI16_4 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};
    private static final float[] LO16_2 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
    private static final float[] HI16_2 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
    private static final float[] LO16_1 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};
    private static final float[] HI16_1 = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};
    private static final float[] LO8_4 = {0, 1, 2, 3, 8, 9, 10, 11};
    private static final float[] HI8_4 = {4, 5, 6, 7, 12, 13, 14, 15};
    private static final float[] LO8_2 = {0, 1, 8, 9, 4, 5, 12, 13};
    private static final float[] HI8_2 = {2, 3, 10, 11, 6, 7, 14, 15};
    private static final float[] LO8_1 = {0, 8, 2, 10, 4, 12, 6, 14};
    private static final float[] HI8_1 = {1, 9, 3, 11, 5, 13, 7, 15};
    private final ScalarTranspose plain = new ScalarTranspose();

    /** Creates the kernel; called reflectively by {@link Simd#select}. */
    public VectorTranspose() {
    }

    @Override
    public int rows(int w) {
        return !WIDE ? ScalarTranspose.ROWS : w >= 16 ? 16 : 8;
    }

    @Override
    public void transpose(float[] x, int src, int ld, int cols, int w, float[] dst, int d) {
        if (!WIDE) {
            plain.transpose(x, src, ld, cols, w, dst, d);
        } else if (w >= 16) {
            transpose16(x, src, ld, cols, w, dst, d);
        } else {
            transpose8(x, src, ld, cols, w, dst, d);
        }
    }

    private static void transpose16(float[] x, int src, int ld, int cols, int w, float[] dst, int d) {
        FloatVector lo8 = FloatVector.fromArray(S16, LO16_8, 0);
        FloatVector hi8 = FloatVector.fromArray(S16, HI16_8, 0);
        FloatVector lo4 = FloatVector.fromArray(S16, LO16_4, 0);
        FloatVector hi4 = FloatVector.fromArray(S16, HI16_4, 0);
        FloatVector lo2 = FloatVector.fromArray(S16, LO16_2, 0);
        FloatVector hi2 = FloatVector.fromArray(S16, HI16_2, 0);
        FloatVector lo1 = FloatVector.fromArray(S16, LO16_1, 0);
        FloatVector hi1 = FloatVector.fromArray(S16, HI16_1, 0);
        int p = 0;
        for (; p + 16 <= cols; p += 16) {
            FloatVector r0 = FloatVector.fromArray(S16, x, src + p);
            FloatVector r1 = FloatVector.fromArray(S16, x, src + 1 * ld + p);
            FloatVector r2 = FloatVector.fromArray(S16, x, src + 2 * ld + p);
            FloatVector r3 = FloatVector.fromArray(S16, x, src + 3 * ld + p);
            FloatVector r4 = FloatVector.fromArray(S16, x, src + 4 * ld + p);
            FloatVector r5 = FloatVector.fromArray(S16, x, src + 5 * ld + p);
            FloatVector r6 = FloatVector.fromArray(S16, x, src + 6 * ld + p);
            FloatVector r7 = FloatVector.fromArray(S16, x, src + 7 * ld + p);
            FloatVector r8 = FloatVector.fromArray(S16, x, src + 8 * ld + p);
            FloatVector r9 = FloatVector.fromArray(S16, x, src + 9 * ld + p);
            FloatVector r10 = FloatVector.fromArray(S16, x, src + 10 * ld + p);
            FloatVector r11 = FloatVector.fromArray(S16, x, src + 11 * ld + p);
            FloatVector r12 = FloatVector.fromArray(S16, x, src + 12 * ld + p);
            FloatVector r13 = FloatVector.fromArray(S16, x, src + 13 * ld + p);
            FloatVector r14 = FloatVector.fromArray(S16, x, src + 14 * ld + p);
            FloatVector r15 = FloatVector.fromArray(S16, x, src + 15 * ld + p);
            FloatVector t1_0 = lo8.selectFrom(r0, r8), t1_8 = hi8.selectFrom(r0, r8);
            FloatVector t1_1 = lo8.selectFrom(r1, r9), t1_9 = hi8.selectFrom(r1, r9);
            FloatVector t1_2 = lo8.selectFrom(r2, r10), t1_10 = hi8.selectFrom(r2, r10);
            FloatVector t1_3 = lo8.selectFrom(r3, r11), t1_11 = hi8.selectFrom(r3, r11);
            FloatVector t1_4 = lo8.selectFrom(r4, r12), t1_12 = hi8.selectFrom(r4, r12);
            FloatVector t1_5 = lo8.selectFrom(r5, r13), t1_13 = hi8.selectFrom(r5, r13);
            FloatVector t1_6 = lo8.selectFrom(r6, r14), t1_14 = hi8.selectFrom(r6, r14);
            FloatVector t1_7 = lo8.selectFrom(r7, r15), t1_15 = hi8.selectFrom(r7, r15);
            FloatVector t2_0 = lo4.selectFrom(t1_0, t1_4), t2_4 = hi4.selectFrom(t1_0, t1_4);
            FloatVector t2_1 = lo4.selectFrom(t1_1, t1_5), t2_5 = hi4.selectFrom(t1_1, t1_5);
            FloatVector t2_2 = lo4.selectFrom(t1_2, t1_6), t2_6 = hi4.selectFrom(t1_2, t1_6);
            FloatVector t2_3 = lo4.selectFrom(t1_3, t1_7), t2_7 = hi4.selectFrom(t1_3, t1_7);
            FloatVector t2_8 = lo4.selectFrom(t1_8, t1_12), t2_12 = hi4.selectFrom(t1_8, t1_12);
            FloatVector t2_9 = lo4.selectFrom(t1_9, t1_13), t2_13 = hi4.selectFrom(t1_9, t1_13);
            FloatVector t2_10 = lo4.selectFrom(t1_10, t1_14), t2_14 = hi4.selectFrom(t1_10, t1_14);
            FloatVector t2_11 = lo4.selectFrom(t1_11, t1_15), t2_15 = hi4.selectFrom(t1_11, t1_15);
            FloatVector t3_0 = lo2.selectFrom(t2_0, t2_2), t3_2 = hi2.selectFrom(t2_0, t2_2);
            FloatVector t3_1 = lo2.selectFrom(t2_1, t2_3), t3_3 = hi2.selectFrom(t2_1, t2_3);
            FloatVector t3_4 = lo2.selectFrom(t2_4, t2_6), t3_6 = hi2.selectFrom(t2_4, t2_6);
            FloatVector t3_5 = lo2.selectFrom(t2_5, t2_7), t3_7 = hi2.selectFrom(t2_5, t2_7);
            FloatVector t3_8 = lo2.selectFrom(t2_8, t2_10), t3_10 = hi2.selectFrom(t2_8, t2_10);
            FloatVector t3_9 = lo2.selectFrom(t2_9, t2_11), t3_11 = hi2.selectFrom(t2_9, t2_11);
            FloatVector t3_12 = lo2.selectFrom(t2_12, t2_14), t3_14 = hi2.selectFrom(t2_12, t2_14);
            FloatVector t3_13 = lo2.selectFrom(t2_13, t2_15), t3_15 = hi2.selectFrom(t2_13, t2_15);
            FloatVector c0 = lo1.selectFrom(t3_0, t3_1), c1 = hi1.selectFrom(t3_0, t3_1);
            FloatVector c2 = lo1.selectFrom(t3_2, t3_3), c3 = hi1.selectFrom(t3_2, t3_3);
            FloatVector c4 = lo1.selectFrom(t3_4, t3_5), c5 = hi1.selectFrom(t3_4, t3_5);
            FloatVector c6 = lo1.selectFrom(t3_6, t3_7), c7 = hi1.selectFrom(t3_6, t3_7);
            FloatVector c8 = lo1.selectFrom(t3_8, t3_9), c9 = hi1.selectFrom(t3_8, t3_9);
            FloatVector c10 = lo1.selectFrom(t3_10, t3_11), c11 = hi1.selectFrom(t3_10, t3_11);
            FloatVector c12 = lo1.selectFrom(t3_12, t3_13), c13 = hi1.selectFrom(t3_12, t3_13);
            FloatVector c14 = lo1.selectFrom(t3_14, t3_15), c15 = hi1.selectFrom(t3_14, t3_15);
            c0.intoArray(dst, d + p * w);
            c1.intoArray(dst, d + (p + 1) * w);
            c2.intoArray(dst, d + (p + 2) * w);
            c3.intoArray(dst, d + (p + 3) * w);
            c4.intoArray(dst, d + (p + 4) * w);
            c5.intoArray(dst, d + (p + 5) * w);
            c6.intoArray(dst, d + (p + 6) * w);
            c7.intoArray(dst, d + (p + 7) * w);
            c8.intoArray(dst, d + (p + 8) * w);
            c9.intoArray(dst, d + (p + 9) * w);
            c10.intoArray(dst, d + (p + 10) * w);
            c11.intoArray(dst, d + (p + 11) * w);
            c12.intoArray(dst, d + (p + 12) * w);
            c13.intoArray(dst, d + (p + 13) * w);
            c14.intoArray(dst, d + (p + 14) * w);
            c15.intoArray(dst, d + (p + 15) * w);
        }
        tail(x, src, ld, p, cols, 16, w, dst, d);
    }

    private static void transpose8(float[] x, int src, int ld, int cols, int w, float[] dst, int d) {
        FloatVector lo4 = FloatVector.fromArray(S8, LO8_4, 0);
        FloatVector hi4 = FloatVector.fromArray(S8, HI8_4, 0);
        FloatVector lo2 = FloatVector.fromArray(S8, LO8_2, 0);
        FloatVector hi2 = FloatVector.fromArray(S8, HI8_2, 0);
        FloatVector lo1 = FloatVector.fromArray(S8, LO8_1, 0);
        FloatVector hi1 = FloatVector.fromArray(S8, HI8_1, 0);
        int p = 0;
        for (; p + 8 <= cols; p += 8) {
            FloatVector r0 = FloatVector.fromArray(S8, x, src + p);
            FloatVector r1 = FloatVector.fromArray(S8, x, src + 1 * ld + p);
            FloatVector r2 = FloatVector.fromArray(S8, x, src + 2 * ld + p);
            FloatVector r3 = FloatVector.fromArray(S8, x, src + 3 * ld + p);
            FloatVector r4 = FloatVector.fromArray(S8, x, src + 4 * ld + p);
            FloatVector r5 = FloatVector.fromArray(S8, x, src + 5 * ld + p);
            FloatVector r6 = FloatVector.fromArray(S8, x, src + 6 * ld + p);
            FloatVector r7 = FloatVector.fromArray(S8, x, src + 7 * ld + p);
            FloatVector t1_0 = lo4.selectFrom(r0, r4), t1_4 = hi4.selectFrom(r0, r4);
            FloatVector t1_1 = lo4.selectFrom(r1, r5), t1_5 = hi4.selectFrom(r1, r5);
            FloatVector t1_2 = lo4.selectFrom(r2, r6), t1_6 = hi4.selectFrom(r2, r6);
            FloatVector t1_3 = lo4.selectFrom(r3, r7), t1_7 = hi4.selectFrom(r3, r7);
            FloatVector t2_0 = lo2.selectFrom(t1_0, t1_2), t2_2 = hi2.selectFrom(t1_0, t1_2);
            FloatVector t2_1 = lo2.selectFrom(t1_1, t1_3), t2_3 = hi2.selectFrom(t1_1, t1_3);
            FloatVector t2_4 = lo2.selectFrom(t1_4, t1_6), t2_6 = hi2.selectFrom(t1_4, t1_6);
            FloatVector t2_5 = lo2.selectFrom(t1_5, t1_7), t2_7 = hi2.selectFrom(t1_5, t1_7);
            FloatVector c0 = lo1.selectFrom(t2_0, t2_1), c1 = hi1.selectFrom(t2_0, t2_1);
            FloatVector c2 = lo1.selectFrom(t2_2, t2_3), c3 = hi1.selectFrom(t2_2, t2_3);
            FloatVector c4 = lo1.selectFrom(t2_4, t2_5), c5 = hi1.selectFrom(t2_4, t2_5);
            FloatVector c6 = lo1.selectFrom(t2_6, t2_7), c7 = hi1.selectFrom(t2_6, t2_7);
            c0.intoArray(dst, d + p * w);
            c1.intoArray(dst, d + (p + 1) * w);
            c2.intoArray(dst, d + (p + 2) * w);
            c3.intoArray(dst, d + (p + 3) * w);
            c4.intoArray(dst, d + (p + 4) * w);
            c5.intoArray(dst, d + (p + 5) * w);
            c6.intoArray(dst, d + (p + 6) * w);
            c7.intoArray(dst, d + (p + 7) * w);
        }
        tail(x, src, ld, p, cols, 8, w, dst, d);
    }
    /** The plain loop over {@code rows} rows, columns {@code [p, cols)}. */
    private static void tail(float[] x, int src, int ld, int p, int cols, int rows, int w, float[] dst, int d) {
        for (; p < cols; p++) {
            for (int i = 0; i < rows; i++) {
                dst[d + p * w + i] = x[src + i * ld + p];
            }
        }
    }
}
