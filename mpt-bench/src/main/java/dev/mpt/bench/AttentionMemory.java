package dev.mpt.bench;

import dev.mpt.core.Attention;
import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Bytes allocated by one forward + backward of {@link Attention} (B = 1, H = 4, D = 32, causal,
 * FP16) at T = 128, 512, 2048, beside the bytes of the {@code T x T} FP32 score matrix a naive
 * implementation keeps per head. Runs on one thread so that the thread's allocation counter
 * ({@code com.sun.management.ThreadMXBean}) sees every buffer; the inputs and the upstream
 * gradient are made before counting. Allocation is an upper bound of the op's peak extra memory.
 *
 * <pre>java -cp mpt-core/target/classes:mpt-bench/target/classes --add-modules jdk.incubator.vector \
 *     dev.mpt.bench.AttentionMemory</pre>
 */
public final class AttentionMemory {

    private AttentionMemory() {
    }

    /** Prints one line per sequence length. */
    public static void main(String[] args) {
        Parallel.setThreads(1);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int b = 1;
        int h = 4;
        int d = 32;
        for (int round = 0; round < 2; round++) {
            for (int t : new int[] {128, 512, 2048}) {
                var rng = new SplittableRandom(t);
                Tensor q = Tensor.randn(rng, DType.FP32, b, h, t, d).to(DType.FP16).requiresGrad(true);
                Tensor k = Tensor.randn(rng, DType.FP32, b, h, t, d).to(DType.FP16).requiresGrad(true);
                Tensor v = Tensor.randn(rng, DType.FP32, b, h, t, d).to(DType.FP16).requiresGrad(true);
                Tensor seed = Tensor.randn(rng, DType.FP32, b, h, t, d).to(DType.FP16);
                long before = mx.getThreadAllocatedBytes(id);
                long t0 = System.nanoTime();
                Tensor out = Attention.forward(q, k, v, null, true);
                out.backward(seed);
                double ms = (System.nanoTime() - t0) / 1e6;
                long bytes = mx.getThreadAllocatedBytes(id) - before;
                if (round == 1) {
                    System.out.println(String.format(Locale.ROOT,
                            "T=%5d  allocated %9d bytes (%7.1f per position)  naive scores %11d bytes  %8.1f ms",
                            t, bytes, (double) bytes / t, 4L * b * h * t * t, ms));
                }
            }
        }
    }
}
