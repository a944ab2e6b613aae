package dev.mpt.core.kernel;

import dev.mpt.core.number.BFloat16;

/**
 * The output C of a GEMM as stored (FP32, FP16 or BF16, row-major with leading dimension
 * {@code ld}) and the factor {@code beta}. It writes a block of FP32 sums into C as
 * {@code C = sum + beta * C}, ignoring the old C when {@code beta == 0} and rounding once, to
 * nearest even, when C is 16-bit: the same expression as {@link GemmReference}.
 */
final class GemmOutput {

    private final float[] f;
    private final short[] h;
    private final boolean bf16;
    private final int off;
    private final int ld;
    private final float beta;

    private GemmOutput(float[] f, short[] h, boolean bf16, int off, int ld, float beta) {
        this.f = f;
        this.h = h;
        this.bf16 = bf16;
        this.off = off;
        this.ld = ld;
        this.beta = beta;
    }

    static GemmOutput of(float[] c, int off, int ld, float beta) {
        return new GemmOutput(c, null, false, off, ld, beta);
    }

    static GemmOutput of16(short[] c, boolean bf16, int off, int ld, float beta) {
        return new GemmOutput(null, c, bf16, off, ld, beta);
    }

    /** {@code C[i0+i][j0+j] = sum[sOff + i*lds + j] (+ beta * C[i0+i][j0+j])} for {@code i < rows, j < cols}. */
    void store(float[] sum, int sOff, int lds, int i0, int rows, int j0, int cols) {
        for (int i = 0; i < rows; i++) {
            int s = sOff + i * lds;
            int c = off + (i0 + i) * ld + j0;
            if (f != null) {
                if (beta == 0f) {
                    System.arraycopy(sum, s, f, c, cols);
                } else {
                    for (int j = 0; j < cols; j++) {
                        f[c + j] = sum[s + j] + beta * f[c + j];
                    }
                }
            } else if (bf16) {
                for (int j = 0; j < cols; j++) {
                    float v = beta == 0f ? sum[s + j] : sum[s + j] + beta * Float.intBitsToFloat(h[c + j] << 16);
                    h[c + j] = BFloat16.fromFloat(v);
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    float v = beta == 0f ? sum[s + j] : sum[s + j] + beta * Float.float16ToFloat(h[c + j]);
                    h[c + j] = Float.floatToFloat16(v);
                }
            }
        }
    }

}
