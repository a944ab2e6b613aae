package dev.mpt.core.kernel;

/**
 * Parallel grain sizes: the fewest elements one task of a {@link Parallel} loop gets, so loops of
 * fewer than about twice as many run on the calling thread. Handing a task to a pool thread costs
 * a few microseconds (fork/join wake-up; more on a loaded machine), so a task must be long enough
 * to hide that. All kernels and ops take their grain from here.
 */
public final class Grain {

    /**
     * Point-wise ops, reductions, pooling, batch-norm channels, the conv bias gradient and the SGD
     * update: 2^15 elements. These loops run at about 0.2 to 0.8 ns per element on one core of the
     * 2-core VMs ({@code TensorOpsBenchmark.biasAdd}: 0.2 for same-index loops, 0.8 for offset
     * ones), so a task takes some 6 to 26 microseconds, several times the hand-off. Chosen by this
     * estimate, not by a sweep; results do not depend on it (each element is written by one task).
     */
    public static final int ELEMENTWISE = 1 << 15;

    /**
     * Bulk FP32/FP16/BF16 conversion ({@link Convert}): 2^18 elements (1 MiB of floats). A chunk
     * this size takes 30 to 150 microseconds at the 2 to 8 G elements/s one core converts, so the
     * hand-off stays below 10%. Measured on the shared 2-core build machine (floatToHalf, 2^16 ..
     * 2^22 elements, serial against two chunks), the second thread gave no gain at any size because
     * the other core was busy; this value rests on the cost estimate above and is to be re-measured
     * with {@code dev.mpt.bench.ConvertBenchmark} on a quiet machine.
     */
    public static final int CONVERT = 1 << 18;

    private Grain() {
    }
}
