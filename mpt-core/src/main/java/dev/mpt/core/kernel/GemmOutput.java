package dev.mpt.core.kernel;

import dev.mpt.core.number.BFloat16;

/**
 * The output C of a GEMM as stored (FP32, FP16 or BF16, row-major with leading dimension
 * {@code ld}) and the factor {@code beta}. It writes a block of FP32 sums into C as
 * {@code C = sum + beta * C}, ignoring the old C when {@code beta == 0} and rounding once, to
 * nearest even, when C is 16-bit: the same expression as {@link GemmReference}.
 *
 * <p>With a bias (an FP32 value per column, {@link #withBias}) the store then adds it as a separate
 * add would: {@code C[i][j] = r(r(sum + beta * C) + bias[j])}, with {@code r} the rounding to C's
 * type, while the block is still in cache.
 */
final class GemmOutput {

    private final float[] f;
    private final short[] h;
    private final boolean bf16;
    private final int off;
    private final int ld;
    private final float beta;
    private final float[] bias;
    private final int biasOff;

    private GemmOutput(float[] f, short[] h, boolean bf16, int off, int ld, float beta, float[] bias, int biasOff) {
        this.f = f;
        this.h = h;
        this.bf16 = bf16;
        this.off = off;
        this.ld = ld;
        this.beta = beta;
        this.bias = bias;
        this.biasOff = biasOff;
    }

    static GemmOutput of(float[] c, int off, int ld, float beta) {
        return new GemmOutput(c, null, false, off, ld, beta, null, 0);
    }

    static GemmOutput of16(short[] c, boolean bf16, int off, int ld, float beta) {
        return new GemmOutput(null, c, bf16, off, ld, beta, null, 0);
    }

    /** This output with {@code bias[biasOff + j]} added to every element of column j after the product. */
    GemmOutput withBias(float[] bias, int biasOff) {
        return new GemmOutput(f, h, bf16, off, ld, beta, bias, biasOff);
    }

    /**
     * Adds the bias to rows {@code [0, rows)} and columns {@code [0, cols)} of a C that already holds
     * the product (written by a native backend): the second half of {@link #store}'s expression.
     */
    void addBias(int rows, int cols) {
        for (int i = 0; i < rows; i++) {
            int c = off + i * ld;
            for (int j = 0; j < cols; j++) {
                float b = bias[biasOff + j];
                if (f != null) {
                    f[c + j] += b;
                } else if (bf16) {
                    h[c + j] = BFloat16.fromFloat(Float.intBitsToFloat(h[c + j] << 16) + b);
                } else {
                    h[c + j] = Float.floatToFloat16(Float.float16ToFloat(h[c + j]) + b);
                }
            }
        }
    }

    /** {@code C[i0+i][j0+j] = sum[sOff + i*lds + j] (+ beta * C[i0+i][j0+j])} for {@code i < rows, j < cols}. */
    void store(float[] sum, int sOff, int lds, int i0, int rows, int j0, int cols) {
        for (int i = 0; i < rows; i++) {
            int s = sOff + i * lds;
            int c = off + (i0 + i) * ld + j0;
            if (bias != null) {
                storeWithBias(sum, s, c, j0, cols);
            } else if (f != null) {
                if (beta == 0f) {
                    System.arraycopy(sum, s, f, c, cols);
                } else {
                    for (int j = 0; j < cols; j++) {
                        f[c + j] = sum[s + j] + beta * f[c + j];
                    }
                }
            } else if (bf16) {
                if (beta == 0f) {
                    Convert.KERNEL.floatToBFloat16(sum, s, h, c, cols); // C2 does not vectorize the plain loop
                } else {
                    for (int j = 0; j < cols; j++) {
                        float v = sum[s + j] + beta * Float.intBitsToFloat(h[c + j] << 16);
                        h[c + j] = BFloat16.fromFloat(v);
                    }
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    float v = beta == 0f ? sum[s + j] : sum[s + j] + beta * Float.float16ToFloat(h[c + j]);
                    h[c + j] = Float.floatToFloat16(v);
                }
            }
        }
    }

    /** One row of {@link #store} with the bias: {@code r(r(sum + beta * C) + bias[j])}. */
    private void storeWithBias(float[] sum, int s, int c, int j0, int cols) {
        int bo = biasOff + j0;
        if (f != null) {
            if (beta == 0f) {
                // the plain loop does not vectorize (sum, bias and C may alias as far as C2 knows)
                BinaryKernel.INSTANCE.apply(BinaryOp.ADD, sum, s, bias, bo, f, c, cols);
                return;
            }
            for (int j = 0; j < cols; j++) {
                float v = sum[s + j] + beta * f[c + j];
                f[c + j] = v + bias[bo + j];
            }
        } else if (bf16) {
            for (int j = 0; j < cols; j++) {
                float v = beta == 0f ? sum[s + j] : sum[s + j] + beta * Float.intBitsToFloat(h[c + j] << 16);
                float product = Float.intBitsToFloat(BFloat16.fromFloat(v) << 16);
                h[c + j] = BFloat16.fromFloat(product + bias[bo + j]);
            }
        } else {
            for (int j = 0; j < cols; j++) {
                float v = beta == 0f ? sum[s + j] : sum[s + j] + beta * Float.float16ToFloat(h[c + j]);
                float product = Float.float16ToFloat(Float.floatToFloat16(v));
                h[c + j] = Float.floatToFloat16(product + bias[bo + j]);
            }
        }
    }

}
