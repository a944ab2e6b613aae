package dev.mpt.core.kernel;

/**
 * Runs a {@link BinaryOp} row kernel. C2 does not vectorize {@code o[oo+i] = a[ao+i] + b[bo+i]}
 * when the three offsets may differ (it cannot rule out that the arrays alias), so the scalar
 * row loops of {@link BinaryOp} run one element at a time (about 0.8 ns per element on the 2-core
 * VMs, against 0.2 for a same-index loop; TensorOpsBenchmark.biasAdd). When the Vector API is
 * enabled ({@link Simd#VECTOR_ENABLED}) the arithmetic ops run in {@code VectorBinaryKernel};
 * everything else, and the whole scalar path, runs {@link BinaryOp#apply}, which is the plain twin.
 *
 * <p>Public only so the tensor ops can call it; it checks no arguments (bad ranges still throw
 * {@link ArrayIndexOutOfBoundsException}).
 */
public interface BinaryKernel {

    /** The kernel of this JVM, chosen once by {@link Simd#select}. */
    BinaryKernel INSTANCE = Simd.select(BinaryKernel.class, "dev.mpt.core.kernel.VectorBinaryKernel",
            () -> BinaryOp::apply);

    /** {@code o[oo+i] = a[ao+i] op b[bo+i]} for {@code i < n}, bit-identical to {@link BinaryOp#apply}. */
    void apply(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n);
}
