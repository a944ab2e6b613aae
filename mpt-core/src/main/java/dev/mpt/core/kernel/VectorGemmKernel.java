package dev.mpt.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Panama Vector API GEMM micro-kernel: a register block of FP32 accumulators, {@code rows} x
 * ({@code vectors} x lanes), updated with fused multiply-adds from a broadcast A value and the B
 * vectors of one packed row. Its shape follows the vector registers of the ISA found at run time
 * ({@link FloatVector#SPECIES_PREFERRED}):
 * <ul>
 * <li>16 lanes (AVX-512, 32 registers): 8 x 3 vectors = 8 x 48. 24 accumulators, 3 B vectors and one
 *     broadcast fill 28 registers; 11 loads feed 24 FMAs. On the 2-core Zen 5 VM it beat 6 x 2 by
 *     10-30% and tied with 12 x 2, 14 x 2 and 6 x 4 on L1-resident slivers (throwaway harness, thread
 *     CPU time, machine shared with other builds); among those it is the one whose height divides
 *     the power-of-two batch sizes (the LSTM's 32 rows: 115 vs 99 GFLOP/s per core for 12 x 2).
 * <li>8 lanes or fewer (AVX2, 16 registers): 6 x 2 vectors = 6 x 16. Twelve accumulators, two B
 *     vectors and one broadcast fill 15 of the 16 registers.
 * </ul>
 * Both shapes chain, per element, {@code acc = fma(a[p][i], b[p][j], acc)} over {@code p} in order,
 * as {@link GemmReference} does, so every shape gives the same bits.
 *
 * <p>Loaded by name through {@link Simd#select}; nothing on the scalar path links this class.
 */
final class VectorGemmKernel implements GemmKernel {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes of one vector of this JVM's preferred species. */
    static final int L = S.length();

    /** The register blocks this class implements: rows x vectors of {@link #L} lanes. */
    enum Shape {
        /** For 32 vector registers (AVX-512). */
        ROWS8_VECTORS3(8, 3),
        /** For 16 vector registers (AVX2). */
        ROWS6_VECTORS2(6, 2);

        final int rows;
        final int vectors;

        Shape(int rows, int vectors) {
            this.rows = rows;
            this.vectors = vectors;
        }

        /** The shape for this JVM: 8 x 3 with 16-lane (512-bit) vectors, else 6 x 2. */
        static Shape preferred() {
            return L >= 16 ? ROWS8_VECTORS3 : ROWS6_VECTORS2;
        }
    }

    private final Shape shape;

    /** The shape for this JVM's ISA ({@link Shape#preferred}); public for {@link Simd#select}. */
    public VectorGemmKernel() {
        this(Shape.preferred());
    }

    /** A given shape (tests run every shape on any ISA; a shape too big for the registers spills, still correct). */
    VectorGemmKernel(Shape shape) {
        this.shape = shape;
    }

    @Override
    public int mr() {
        return shape.rows;
    }

    @Override
    public int nr() {
        return shape.vectors * L;
    }

    @Override
    public String toString() {
        return "VectorGemmKernel " + shape.rows + " x " + nr();
    }

    @Override
    public void multiply(int kc, float[] a, int aOff, float[] b, int bOff, float[] w, int wOff, int ldw,
                         boolean accumulate) {
        switch (shape) {
            case ROWS8_VECTORS3 -> multiply8x3(kc, a, aOff, b, bOff, w, wOff, ldw, accumulate);
            case ROWS6_VECTORS2 -> multiply6x2(kc, a, aOff, b, bOff, w, wOff, ldw, accumulate);
        }
    }

    /*
     * The naive loop each shape unrolls (MR rows, NR = vectors * L columns):
     *   for (i < MR) for (j < NR) { float acc = accumulate ? w[i][j] : 0;
     *                               for (p < kc) acc = fma(a[p*MR + i], b[p*NR + j], acc); w[i][j] = acc; }
     * Accumulator c<i>_<v> holds w[i][v*L .. v*L + L).
     *
     * No vector passes through a method of ours, not even a one-line load helper: C2 inlines such
     * a helper only when its heuristics allow, and when it does not, the vector comes back boxed
     * with no exact class, so the fmas using it are not intrinsified either and run the Java
     * fallback, allocating every result. In 2 of 30 fresh JVMs on a loaded machine, C2 compiled
     * multiply8x3 from a profile gathered mostly at tier 2 and left the 24 accumulator loads of the
     * accumulate branch out of line ("low call site frequency"): StepProfile cnn FP32 took 1.3-1.4 s
     * CPU and allocated 10.2 GiB per step instead of ~0.15 s and 126 MiB, 97% of it float[] in
     * FloatVector.lanewiseTemplate (fma) under multiply8x3 (issue 11).
     * -XX:+UnlockDiagnosticVMOptions -XX:MinInlineFrequencyRatio=0.9 reproduces it every time.
     * The Vector API's own methods are force-inlined by the JDK.
     */

    private static void multiply8x3(int kc, float[] a, int aOff, float[] b, int bOff,
                                    float[] w, int wOff, int ldw, boolean accumulate) {
        int w0 = wOff;
        int w1 = w0 + ldw;
        int w2 = w1 + ldw;
        int w3 = w2 + ldw;
        int w4 = w3 + ldw;
        int w5 = w4 + ldw;
        int w6 = w5 + ldw;
        int w7 = w6 + ldw;
        FloatVector c0_0, c0_1, c0_2, c1_0, c1_1, c1_2, c2_0, c2_1, c2_2, c3_0, c3_1, c3_2;
        FloatVector c4_0, c4_1, c4_2, c5_0, c5_1, c5_2, c6_0, c6_1, c6_2, c7_0, c7_1, c7_2;
        if (accumulate) {
            c0_0 = FloatVector.fromArray(S, w, w0); c0_1 = FloatVector.fromArray(S, w, w0 + L);
            c0_2 = FloatVector.fromArray(S, w, w0 + 2 * L);
            c1_0 = FloatVector.fromArray(S, w, w1); c1_1 = FloatVector.fromArray(S, w, w1 + L);
            c1_2 = FloatVector.fromArray(S, w, w1 + 2 * L);
            c2_0 = FloatVector.fromArray(S, w, w2); c2_1 = FloatVector.fromArray(S, w, w2 + L);
            c2_2 = FloatVector.fromArray(S, w, w2 + 2 * L);
            c3_0 = FloatVector.fromArray(S, w, w3); c3_1 = FloatVector.fromArray(S, w, w3 + L);
            c3_2 = FloatVector.fromArray(S, w, w3 + 2 * L);
            c4_0 = FloatVector.fromArray(S, w, w4); c4_1 = FloatVector.fromArray(S, w, w4 + L);
            c4_2 = FloatVector.fromArray(S, w, w4 + 2 * L);
            c5_0 = FloatVector.fromArray(S, w, w5); c5_1 = FloatVector.fromArray(S, w, w5 + L);
            c5_2 = FloatVector.fromArray(S, w, w5 + 2 * L);
            c6_0 = FloatVector.fromArray(S, w, w6); c6_1 = FloatVector.fromArray(S, w, w6 + L);
            c6_2 = FloatVector.fromArray(S, w, w6 + 2 * L);
            c7_0 = FloatVector.fromArray(S, w, w7); c7_1 = FloatVector.fromArray(S, w, w7 + L);
            c7_2 = FloatVector.fromArray(S, w, w7 + 2 * L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c0_0 = z; c0_1 = z; c0_2 = z;
            c1_0 = z; c1_1 = z; c1_2 = z;
            c2_0 = z; c2_1 = z; c2_2 = z;
            c3_0 = z; c3_1 = z; c3_2 = z;
            c4_0 = z; c4_1 = z; c4_2 = z;
            c5_0 = z; c5_1 = z; c5_2 = z;
            c6_0 = z; c6_1 = z; c6_2 = z;
            c7_0 = z; c7_1 = z; c7_2 = z;
        }
        for (int p = 0; p < kc; p++) {
            int ao = aOff + p * 8;
            int bo = bOff + p * 3 * L;
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector x0 = FloatVector.broadcast(S, a[ao]);
            c0_0 = b0.fma(x0, c0_0); c0_1 = b1.fma(x0, c0_1); c0_2 = b2.fma(x0, c0_2);
            FloatVector x1 = FloatVector.broadcast(S, a[ao + 1]);
            c1_0 = b0.fma(x1, c1_0); c1_1 = b1.fma(x1, c1_1); c1_2 = b2.fma(x1, c1_2);
            FloatVector x2 = FloatVector.broadcast(S, a[ao + 2]);
            c2_0 = b0.fma(x2, c2_0); c2_1 = b1.fma(x2, c2_1); c2_2 = b2.fma(x2, c2_2);
            FloatVector x3 = FloatVector.broadcast(S, a[ao + 3]);
            c3_0 = b0.fma(x3, c3_0); c3_1 = b1.fma(x3, c3_1); c3_2 = b2.fma(x3, c3_2);
            FloatVector x4 = FloatVector.broadcast(S, a[ao + 4]);
            c4_0 = b0.fma(x4, c4_0); c4_1 = b1.fma(x4, c4_1); c4_2 = b2.fma(x4, c4_2);
            FloatVector x5 = FloatVector.broadcast(S, a[ao + 5]);
            c5_0 = b0.fma(x5, c5_0); c5_1 = b1.fma(x5, c5_1); c5_2 = b2.fma(x5, c5_2);
            FloatVector x6 = FloatVector.broadcast(S, a[ao + 6]);
            c6_0 = b0.fma(x6, c6_0); c6_1 = b1.fma(x6, c6_1); c6_2 = b2.fma(x6, c6_2);
            FloatVector x7 = FloatVector.broadcast(S, a[ao + 7]);
            c7_0 = b0.fma(x7, c7_0); c7_1 = b1.fma(x7, c7_1); c7_2 = b2.fma(x7, c7_2);
        }
        c0_0.intoArray(w, w0); c0_1.intoArray(w, w0 + L); c0_2.intoArray(w, w0 + 2 * L);
        c1_0.intoArray(w, w1); c1_1.intoArray(w, w1 + L); c1_2.intoArray(w, w1 + 2 * L);
        c2_0.intoArray(w, w2); c2_1.intoArray(w, w2 + L); c2_2.intoArray(w, w2 + 2 * L);
        c3_0.intoArray(w, w3); c3_1.intoArray(w, w3 + L); c3_2.intoArray(w, w3 + 2 * L);
        c4_0.intoArray(w, w4); c4_1.intoArray(w, w4 + L); c4_2.intoArray(w, w4 + 2 * L);
        c5_0.intoArray(w, w5); c5_1.intoArray(w, w5 + L); c5_2.intoArray(w, w5 + 2 * L);
        c6_0.intoArray(w, w6); c6_1.intoArray(w, w6 + L); c6_2.intoArray(w, w6 + 2 * L);
        c7_0.intoArray(w, w7); c7_1.intoArray(w, w7 + L); c7_2.intoArray(w, w7 + 2 * L);
    }

    private static void multiply6x2(int kc, float[] a, int aOff, float[] b, int bOff,
                                    float[] w, int wOff, int ldw, boolean accumulate) {
        int w0 = wOff;
        int w1 = w0 + ldw;
        int w2 = w1 + ldw;
        int w3 = w2 + ldw;
        int w4 = w3 + ldw;
        int w5 = w4 + ldw;
        FloatVector c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1, c5_0, c5_1;
        if (accumulate) {
            c0_0 = FloatVector.fromArray(S, w, w0); c0_1 = FloatVector.fromArray(S, w, w0 + L);
            c1_0 = FloatVector.fromArray(S, w, w1); c1_1 = FloatVector.fromArray(S, w, w1 + L);
            c2_0 = FloatVector.fromArray(S, w, w2); c2_1 = FloatVector.fromArray(S, w, w2 + L);
            c3_0 = FloatVector.fromArray(S, w, w3); c3_1 = FloatVector.fromArray(S, w, w3 + L);
            c4_0 = FloatVector.fromArray(S, w, w4); c4_1 = FloatVector.fromArray(S, w, w4 + L);
            c5_0 = FloatVector.fromArray(S, w, w5); c5_1 = FloatVector.fromArray(S, w, w5 + L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c0_0 = z; c0_1 = z;
            c1_0 = z; c1_1 = z;
            c2_0 = z; c2_1 = z;
            c3_0 = z; c3_1 = z;
            c4_0 = z; c4_1 = z;
            c5_0 = z; c5_1 = z;
        }
        for (int p = 0; p < kc; p++) {
            int ao = aOff + p * 6;
            int bo = bOff + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector x0 = FloatVector.broadcast(S, a[ao]);
            c0_0 = b0.fma(x0, c0_0); c0_1 = b1.fma(x0, c0_1);
            FloatVector x1 = FloatVector.broadcast(S, a[ao + 1]);
            c1_0 = b0.fma(x1, c1_0); c1_1 = b1.fma(x1, c1_1);
            FloatVector x2 = FloatVector.broadcast(S, a[ao + 2]);
            c2_0 = b0.fma(x2, c2_0); c2_1 = b1.fma(x2, c2_1);
            FloatVector x3 = FloatVector.broadcast(S, a[ao + 3]);
            c3_0 = b0.fma(x3, c3_0); c3_1 = b1.fma(x3, c3_1);
            FloatVector x4 = FloatVector.broadcast(S, a[ao + 4]);
            c4_0 = b0.fma(x4, c4_0); c4_1 = b1.fma(x4, c4_1);
            FloatVector x5 = FloatVector.broadcast(S, a[ao + 5]);
            c5_0 = b0.fma(x5, c5_0); c5_1 = b1.fma(x5, c5_1);
        }
        c0_0.intoArray(w, w0); c0_1.intoArray(w, w0 + L);
        c1_0.intoArray(w, w1); c1_1.intoArray(w, w1 + L);
        c2_0.intoArray(w, w2); c2_1.intoArray(w, w2 + L);
        c3_0.intoArray(w, w3); c3_1.intoArray(w, w3 + L);
        c4_0.intoArray(w, w4); c4_1.intoArray(w, w4 + L);
        c5_0.intoArray(w, w5); c5_1.intoArray(w, w5 + L);
    }
}
