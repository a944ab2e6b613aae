package dev.mpt.core.kernel;

/**
 * The transposing copy at the heart of GEMM packing ({@link GemmOperand}): a group of rows of a
 * row-major FP32 matrix becomes the same columns of a packed sliver, {@code w} floats per column.
 * Implementations: {@link ScalarTranspose} (the specification, always available) and
 * {@code VectorTranspose} (Panama Vector API), chosen once by {@link GemmOperand}. A pure copy:
 * every implementation writes the same bits.
 */
interface TransposeKernel {

    /**
     * Rows one {@link #transpose} call takes for slivers {@code w} floats wide; packing copies
     * slivers with fewer rows than this row by row.
     */
    int rows(int w);

    /**
     * {@code dst[d + p*w + i] = x[src + i*ld + p]} for {@code i < rows(w)}, {@code p < cols}.
     * Arguments are valid: every index is inside its array.
     */
    void transpose(float[] x, int src, int ld, int cols, int w, float[] dst, int d);
}
