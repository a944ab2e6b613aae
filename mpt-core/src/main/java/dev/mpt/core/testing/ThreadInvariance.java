package dev.mpt.core.testing;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Checks the promise that results do not depend on the number of kernel threads: runs a
 * computation on 1, 2, 3 and 7 threads ({@link #THREAD_COUNTS}) and requires the same bits from
 * every run, and requires that each stage declared parallel really handed tasks to the thread
 * pool on every count above one (so a shape too small for an op's parallel split fails the check
 * instead of passing trivially).
 *
 * <pre>{@code
 * ThreadInvariance.check("maxPool2d", DType.FP16, 7, (dtype, seed, run) -> {
 *     Tensor x = Tensor.randn(SplitMix64.seeded(seed), dtype, 16, 32, 32, 32).requiresGrad(true);
 *     Tensor y = run.parallel("forward", () -> x.maxPool2d(2, 2, 0));
 *     run.parallel("backward", () -> y.backward(Tensor.ones(dtype, y.shape())));
 *     run.bits("y", y);
 *     run.bits("dx", x.grad());
 * });
 * }</pre>
 *
 * <p>A parallel stage runs on a fresh thread pool of the current size; it forked when a kernel
 * thread ({@code mpt-kernel-*}) that did not exist before the stage exists after it (the pool
 * starts its workers only when a task is submitted to it). The thread count in force before the
 * check is restored afterwards. Bits are compared exactly: FP32 by
 * {@link Float#floatToRawIntBits}, FP16 and BF16 by their stored patterns, so NaN payloads and
 * signed zeros count.
 */
public final class ThreadInvariance {

    /**
     * The thread counts each computation runs on: 1 (the serial reference), 2 and 3 (even and odd
     * splits), and 7 (more threads than the build machines' cores, and a prime, so chunk
     * boundaries fall in places no power-of-two split has).
     */
    public static final List<Integer> THREAD_COUNTS = List.of(1, 2, 3, 7);

    /** Prefix of the names of {@link Parallel}'s pool threads. */
    private static final String KERNEL_THREAD_PREFIX = "mpt-kernel-";

    private ThreadInvariance() {
    }

    /** A computation whose recorded bits must not depend on the thread count. */
    @FunctionalInterface
    public interface Body {
        /**
         * Builds inputs from {@code seed} in {@code dtype}, computes, and records outputs with
         * {@link Run#bits}; work that must take a parallel path goes through {@link Run#parallel}.
         */
        void run(DType dtype, long seed, Run run) throws Exception;
    }

    /** One run of a {@link Body} on one thread count: collects bits and the parallel stages' evidence. */
    public static final class Run {
        private final int threads;
        private final Map<String, int[]> bits = new LinkedHashMap<>();
        private final List<String> serialStages = new ArrayList<>();

        private Run(int threads) {
            this.threads = threads;
        }

        /** The number of kernel threads this run uses. */
        public int threads() {
            return threads;
        }

        /**
         * Runs {@code work} on a fresh pool and notes whether it submitted tasks to the pool; on more
         * than one thread, a stage that did not fails the check.
         */
        public <T> T parallel(String stage, Supplier<T> work) {
            Objects.requireNonNull(stage, "ThreadInvariance.parallel: stage");
            Objects.requireNonNull(work, "ThreadInvariance.parallel: work");
            if (threads > 1) {
                Parallel.setThreads(1); // drop the pool and its started workers ...
                Parallel.setThreads(threads); // ... so any worker alive after the stage started in it
            }
            Set<Thread> before = kernelThreads();
            T result = work.get();
            if (threads > 1 && before.containsAll(kernelThreads())) {
                serialStages.add(stage);
            }
            return result;
        }

        /** {@link #parallel(String, Supplier)} for work without a result. */
        public void parallel(String stage, Runnable work) {
            Objects.requireNonNull(work, "ThreadInvariance.parallel: work");
            parallel(stage, () -> {
                work.run();
                return null;
            });
        }

        /** Records the elements of {@code t} (row-major) under {@code name}. */
        public void bits(String name, Tensor t) {
            Objects.requireNonNull(t, () -> "ThreadInvariance.bits: tensor '" + name + "' is null");
            Tensor c = t.contiguous();
            if (c.dtype() == DType.FP32) {
                bits(name, Arrays.copyOfRange(c.floatData(), c.storageOffset(), c.storageOffset() + c.numel()));
            } else {
                bits(name, Arrays.copyOfRange(c.shortData(), c.storageOffset(), c.storageOffset() + c.numel()));
            }
        }

        /** Records FP32 values by their raw bits. */
        public void bits(String name, float[] values) {
            int[] b = new int[values.length];
            for (int i = 0; i < b.length; i++) {
                b[i] = Float.floatToRawIntBits(values[i]);
            }
            put(name, b);
        }

        /** Records 16-bit patterns (FP16 or BF16). */
        public void bits(String name, short[] values) {
            int[] b = new int[values.length];
            for (int i = 0; i < b.length; i++) {
                b[i] = values[i] & 0xFFFF;
            }
            put(name, b);
        }

        /** Records a double by its bits (a norm, a loss). */
        public void bits(String name, double value) {
            long v = Double.doubleToRawLongBits(value);
            put(name, new int[] {(int) (v >>> 32), (int) v});
        }

        private void put(String name, int[] b) {
            Objects.requireNonNull(name, "ThreadInvariance.bits: name");
            if (bits.putIfAbsent(name, b) != null) {
                throw new IllegalArgumentException("ThreadInvariance.bits: output '" + name + "' recorded twice");
            }
        }
    }

    /**
     * Runs {@code body} on each of {@link #THREAD_COUNTS} and throws {@link AssertionError} naming
     * the case, dtype, output, thread counts and first differing element if any recorded output
     * differs from the one-thread run, or if a parallel stage ran serially on more than one thread.
     *
     * @throws IllegalArgumentException if the body records no output
     */
    public static void check(String name, DType dtype, long seed, Body body) {
        Objects.requireNonNull(name, "ThreadInvariance.check: name");
        Objects.requireNonNull(dtype, "ThreadInvariance.check: dtype");
        Objects.requireNonNull(body, "ThreadInvariance.check: body");
        int saved = Parallel.threads();
        try {
            Map<String, int[]> reference = null;
            for (int threads : THREAD_COUNTS) {
                Parallel.setThreads(threads);
                Run run = new Run(threads);
                try {
                    body.run(dtype, seed, run);
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(name + " " + dtype + ": " + e, e);
                }
                if (run.bits.isEmpty()) {
                    throw new IllegalArgumentException("ThreadInvariance.check: case '" + name + "' recorded no output");
                }
                if (!run.serialStages.isEmpty()) {
                    throw new AssertionError(name + " " + dtype + " on " + threads + " threads: stage(s) "
                            + run.serialStages + " never reached the thread pool; enlarge the shape past the op's "
                            + "parallel grain (dev.mpt.core.kernel.Grain)");
                }
                if (reference == null) {
                    reference = run.bits;
                } else {
                    compare(name, dtype, threads, reference, run.bits);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * The outputs one run of {@code body} records on the current thread count, by name in
     * recording order (FP32 as raw float bits, 16-bit values as their patterns); parallel stages are
     * not checked. For comparing a run with one made elsewhere (another JVM, another kernel).
     */
    public static Map<String, int[]> record(DType dtype, long seed, Body body) {
        Objects.requireNonNull(dtype, "ThreadInvariance.record: dtype");
        Objects.requireNonNull(body, "ThreadInvariance.record: body");
        Run run = new Run(1);
        try {
            body.run(dtype, seed, run);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(dtype + ": " + e, e);
        }
        return java.util.Collections.unmodifiableMap(run.bits);
    }

    private static void compare(String name, DType dtype, int threads, Map<String, int[]> ref, Map<String, int[]> got) {
        if (!ref.keySet().equals(got.keySet())) {
            throw new AssertionError(name + " " + dtype + ": outputs " + got.keySet() + " on " + threads
                    + " threads, " + ref.keySet() + " on 1");
        }
        for (var e : ref.entrySet()) {
            int[] a = e.getValue();
            int[] b = got.get(e.getKey());
            if (Arrays.equals(a, b)) {
                continue;
            }
            if (a.length != b.length) {
                throw new AssertionError(name + " " + dtype + ": '" + e.getKey() + "' has " + b.length
                        + " elements on " + threads + " threads, " + a.length + " on 1");
            }
            int first = Arrays.mismatch(a, b);
            int differ = 0;
            for (int i = 0; i < a.length; i++) {
                differ += a[i] != b[i] ? 1 : 0;
            }
            throw new AssertionError(String.format(
                    "%s %s: '%s' differs between 1 and %d threads in %d of %d elements; first at %d: 0x%x vs 0x%x",
                    name, dtype, e.getKey(), threads, differ, a.length, first, a[first], b[first]));
        }
    }

    private static Set<Thread> kernelThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(KERNEL_THREAD_PREFIX))
                .collect(Collectors.toSet());
    }
}
