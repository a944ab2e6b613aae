package dev.mpt.core.kernel;

/**
 * A register-blocked GEMM micro-kernel over packed panels: it multiplies an {@code mr() x kc}
 * sliver of A by a {@code kc x nr()} sliver of B into an {@code mr() x nr()} tile of an FP32
 * workspace. Implementations: {@link ScalarGemmKernel} (always available) and
 * {@code VectorGemmKernel} (Panama Vector API), chosen once by {@link BlockedGemm}.
 */
interface GemmKernel {

    /** Rows of the register block (the height of a packed A sliver). */
    int mr();

    /** Columns of the register block (the width of a packed B sliver). */
    int nr();

    /**
     * {@code w[wOff + i*ldw + j] = (accumulate ? w[wOff + i*ldw + j] : 0) + sum_{p<kc} a[aOff + p*mr + i] * b[bOff + p*nr + j]}
     * for {@code i < mr, j < nr}, summed in FP32 in increasing {@code p}, each term added to the
     * running sum as it is formed (so splitting {@code k} into blocks does not change the result).
     */
    void multiply(int kc, float[] a, int aOff, float[] b, int bOff, float[] w, int wOff, int ldw, boolean accumulate);
}
