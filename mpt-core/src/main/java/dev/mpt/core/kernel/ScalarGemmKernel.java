package dev.mpt.core.kernel;

/**
 * The always-available GEMM micro-kernel: a 4 x 4 register block of FP32 accumulators held in
 * local variables, one fused multiply-add ({@link Math#fma}, one instruction on x86-64 with FMA and on
 * AArch64) per term. Each element is the same chain of roundings as {@link GemmReference}, so this
 * path reproduces it bit for bit.
 *
 * <p>C2 on JDK 25 did not auto-vectorize the array forms tried for this kernel (4 x 16 and
 * 4 x 64..256 tiles of a local accumulator array fed from a packed panel: 2-12 GFLOP/s per core);
 * sixteen scalar accumulators in locals run at about 8 GFLOP/s per core without depending on
 * that (measured with a throwaway harness on the 2-core Zen 5 VM). The Vector API kernel is the
 * fast path.
 */
final class ScalarGemmKernel implements GemmKernel {

    /** Register block height: 16 accumulators + 4 B values + 1 A value fit the 16 x86 FP registers with little spilling. */
    static final int MR = 4;
    /** Register block width. */
    static final int NR = 4;

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
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        if (accumulate) {
            c00 = w[w0]; c01 = w[w0 + 1]; c02 = w[w0 + 2]; c03 = w[w0 + 3];
            c10 = w[w1]; c11 = w[w1 + 1]; c12 = w[w1 + 2]; c13 = w[w1 + 3];
            c20 = w[w2]; c21 = w[w2 + 1]; c22 = w[w2 + 2]; c23 = w[w2 + 3];
            c30 = w[w3]; c31 = w[w3 + 1]; c32 = w[w3 + 2]; c33 = w[w3 + 3];
        }
        for (int p = 0; p < kc; p++) {
            int ao = aOff + p * MR;
            int bo = bOff + p * NR;
            float b0 = b[bo], b1 = b[bo + 1], b2 = b[bo + 2], b3 = b[bo + 3];
            float x = a[ao];
            c00 = Math.fma(x, b0, c00); c01 = Math.fma(x, b1, c01); c02 = Math.fma(x, b2, c02); c03 = Math.fma(x, b3, c03);
            x = a[ao + 1];
            c10 = Math.fma(x, b0, c10); c11 = Math.fma(x, b1, c11); c12 = Math.fma(x, b2, c12); c13 = Math.fma(x, b3, c13);
            x = a[ao + 2];
            c20 = Math.fma(x, b0, c20); c21 = Math.fma(x, b1, c21); c22 = Math.fma(x, b2, c22); c23 = Math.fma(x, b3, c23);
            x = a[ao + 3];
            c30 = Math.fma(x, b0, c30); c31 = Math.fma(x, b1, c31); c32 = Math.fma(x, b2, c32); c33 = Math.fma(x, b3, c33);
        }
        w[w0] = c00; w[w0 + 1] = c01; w[w0 + 2] = c02; w[w0 + 3] = c03;
        w[w1] = c10; w[w1 + 1] = c11; w[w1 + 2] = c12; w[w1 + 3] = c13;
        w[w2] = c20; w[w2 + 1] = c21; w[w2 + 2] = c22; w[w2 + 3] = c23;
        w[w3] = c30; w[w3 + 1] = c31; w[w3 + 2] = c32; w[w3 + 3] = c33;
    }
}
