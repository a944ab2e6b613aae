package dev.mpt.core.kernel.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * oneDNN streams outlive no thread: products run on the kernel pool's threads while the pool is
 * resized again and again ({@link Parallel#setThreads} replaces every worker), and the backend
 * keeps no more streams than products that ran at once. Before streams were pooled, each new
 * worker created its own and the streams of retired workers were never destroyed.
 */
class OneDnnStreamTest {

    /** Resizes, each replacing every kernel thread: 2, 3, 2, 3, ... threads. */
    private static final int ROUNDS = 8;

    /** The most products running at once: the largest pool (3 threads) plus the caller, which may help. */
    private static final int MAX_CONCURRENT = 4;

    @Test
    void resizingTheKernelPoolDoesNotLeaveStreamsBehind() throws Exception {
        Assumptions.assumeTrue(OneDnnGemm.PLATFORM.equals(NativeLibraries.platform()),
                "oneDNN natives are tested on linux-x86_64");
        // a backend of its own, so that the count is not shared with other tests' products
        OneDnnGemm backend = OneDnnGemm.load(Backends.class.getClassLoader(), OneDnnGemm.PLATFORM,
                NativeLibraries.cacheRoot(), OneDnnGemm.Routes.ALL);
        int n = 64;
        float[] av = new float[n * n];
        float[] bv = new float[n * n];
        short[] a = new short[n * n];
        short[] b = new short[n * n];
        for (int i = 0; i < a.length; i++) {
            av[i] = i % 9 - 4;
            bv[i] = i % 7 - 3;
            a[i] = (short) (Float.floatToRawIntBits(av[i]) >>> 16);    // small integers: exact in BF16
            b[i] = (short) (Float.floatToRawIntBits(bv[i]) >>> 16);
        }
        // small integers: every product and partial sum (|s| <= 64 * 12) is an integer below 2^24,
        // so FP32 accumulation in any order is exact and the result must equal this exactly
        float[] expected = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < n; p++) {
                    s += (double) av[i * n + p] * bv[p * n + j];
                }
                expected[i * n + j] = (float) s;
            }
        }
        Set<Thread> callers = ConcurrentHashMap.newKeySet();
        int saved = Parallel.threads();
        try {
            for (int round = 0; round < ROUNDS; round++) {
                Parallel.setThreads(2 + round % 2);
                int tasks = Parallel.threads();
                // every task waits for the others, so the products run on distinct threads at once
                CountDownLatch started = new CountDownLatch(tasks);
                Parallel.forEach(tasks, t -> {
                    started.countDown();
                    try {
                        assertTrue(started.await(30, TimeUnit.SECONDS), "kernel tasks did not start together");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new AssertionError(e);
                    }
                    float[] c = new float[n * n];
                    assertTrue(backend.gemm16(1, true, false, false, n, n, n, a, 0, n, b, 0, n, 0f, c, 0, n),
                            "oneDNN declined the product");
                    assertArrayEquals(expected, c);
                    callers.add(Thread.currentThread());
                });
            }
        } finally {
            Parallel.setThreads(saved);
        }
        assertTrue(callers.size() > MAX_CONCURRENT, () -> "products ran on only " + callers.size() + " threads");
        assertTrue(backend.streamCount() <= MAX_CONCURRENT, () -> backend.streamCount() + " streams for "
                + callers.size() + " threads that each ran a product, at most " + MAX_CONCURRENT + " at once");
    }
}
