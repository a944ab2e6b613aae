package dev.mpt.core;

import dev.mpt.core.kernel.Simd;

/**
 * Runs a {@link Binary} row kernel. C2 does not vectorize {@code o[oo+i] = a[ao+i] + b[bo+i]}
 * when the three offsets may differ (it cannot rule out that the arrays alias), so the scalar
 * row loops of {@link Binary} run one element at a time (about 0.8 ns per element on the 2-core
 * VMs, against 0.2 for a same-index loop; TensorOpsBenchmark.biasAdd). When the Vector API is
 * enabled ({@link Simd#VECTOR_ENABLED}) the arithmetic ops run in {@link VectorBinaryKernel};
 * everything else, and the whole scalar path, runs {@link Binary#apply}, which is the plain twin.
 */
interface BinaryKernel {

    /** The kernel of this JVM, chosen once. */
    BinaryKernel INSTANCE = select();

    /** {@code o[oo+i] = a[ao+i] op b[bo+i]} for {@code i < n}, bit-identical to {@link Binary#apply}. */
    void apply(Binary op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n);

    private static BinaryKernel select() {
        if (Simd.VECTOR_ENABLED) {
            try {
                return (BinaryKernel) Class.forName("dev.mpt.core.VectorBinaryKernel")
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                org.slf4j.LoggerFactory.getLogger(BinaryKernel.class)
                        .warn("could not load the Vector API point-wise kernel; using scalar loops: {}", e.toString());
            }
        }
        return Binary::apply;
    }
}
