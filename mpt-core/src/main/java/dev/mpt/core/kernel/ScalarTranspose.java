package dev.mpt.core.kernel;

/**
 * The plain {@link TransposeKernel}: 8 rows at a time, each step reading one element from each of
 * the 8 rows and writing them as 8 contiguous floats of the sliver. Copying one row at a time
 * instead scatters its stores {@code w} floats apart over the whole sliver (150 KiB for the forward
 * pass's {@code W^T} with k = 784 and the 48-wide AVX-512 sliver), which made packing that operand
 * about a fifth of its GEMM; 8-row groups packed it 1.6x faster from cache and from memory
 * (throwaway harness, 1024 x 784, 2-core Zen 5 VM shared with other builds).
 */
final class ScalarTranspose implements TransposeKernel {

    /** Rows per call. */
    static final int ROWS = 8;

    @Override
    public int rows(int w) {
        return ROWS;
    }

    @Override
    public void transpose(float[] x, int src, int ld, int cols, int w, float[] dst, int d) {
        for (int p = 0; p < cols; p++, src++, d += w) {
            dst[d] = x[src];
            dst[d + 1] = x[src + ld];
            dst[d + 2] = x[src + 2 * ld];
            dst[d + 3] = x[src + 3 * ld];
            dst[d + 4] = x[src + 4 * ld];
            dst[d + 5] = x[src + 5 * ld];
            dst[d + 6] = x[src + 6 * ld];
            dst[d + 7] = x[src + 7 * ld];
        }
    }
}
