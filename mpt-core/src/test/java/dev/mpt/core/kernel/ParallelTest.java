package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

class ParallelTest {

    @Test
    void resizingWhileAKernelRunsLetsItFinishOnTheOldPool() throws Exception {
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(2);
            int tasks = 64;
            AtomicLongArray out = new AtomicLongArray(tasks);
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch resized = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread worker = new Thread(() -> {
                try {
                    Parallel.forEach(tasks, i -> {
                        if (i == 0) {
                            started.countDown();
                            await(resized);
                        }
                        out.set(i, i + 1L);
                    });
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            worker.start();
            assertTrue(started.await(30, TimeUnit.SECONDS), "kernel did not start");
            Parallel.setThreads(3);                       // the running kernel keeps the old pool
            resized.countDown();
            worker.join(TimeUnit.SECONDS.toMillis(30));
            assertNull(failure.get(), () -> "kernel failed after setThreads: " + failure.get());
            for (int i = 0; i < tasks; i++) {
                assertEquals(i + 1L, out.get(i), "task " + i);
            }
            assertEquals(3, Parallel.threads());
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void manyThreadsResizingAndComputingAtOnceNeverReject() throws Exception {
        int saved = Parallel.threads();
        try {
            int callers = 3;
            int rounds = 3000;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicInteger sum = new AtomicInteger();
            AtomicInteger finished = new AtomicInteger();
            Thread[] ts = new Thread[callers + 1];
            for (int c = 0; c < callers; c++) {
                ts[c] = new Thread(() -> {
                    try {
                        for (int r = 0; r < rounds; r++) {
                            Parallel.forEach(8, i -> sum.incrementAndGet());
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        finished.incrementAndGet();
                    }
                });
            }
            ts[callers] = new Thread(() -> {
                for (int r = 0; finished.get() < callers; r++) {
                    Parallel.setThreads(2 + r % 3);
                }
            });
            for (Thread t : ts) {
                t.start();
            }
            for (Thread t : ts) {
                t.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertNull(failure.get(), () -> "forEach failed while resizing: " + failure.get());
            assertEquals(callers * rounds * 8, sum.get());
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void setThreadsNamesTheAllowedRange() {
        int saved = Parallel.threads();
        for (int bad : new int[] {0, -1, Parallel.maxThreads() + 1, 100_000, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(bad));
            assertTrue(e.getMessage().contains("[1, " + Parallel.maxThreads() + "]")
                    && e.getMessage().contains(Integer.toString(bad)), e.getMessage());
        }
        assertEquals(saved, Parallel.threads(), "a rejected setThreads must not change the pool");
        assertTrue(Parallel.maxThreads() >= 256 && Parallel.maxThreads() <= 32767, "" + Parallel.maxThreads());
    }

    @Test
    void badThreadsPropertyFailsEveryKernelCallWithAMessageNamingIt() throws Exception {
        for (String bad : new String[] {"0", "-1", "abc", "100000"}) {
            Class<?> fresh = freshParallel(bad);
            Method forEach = fresh.getMethod("forEach", int.class, IntConsumer.class);
            IntConsumer body = i -> { };
            for (int call = 0; call < 2; call++) {
                InvocationTargetException e = assertThrows(InvocationTargetException.class,
                        () -> forEach.invoke(null, 4, body), "-Dmpt.threads=" + bad);
                IllegalStateException ise = assertInstanceOf(IllegalStateException.class, e.getCause(),
                        "-Dmpt.threads=" + bad + ", call " + call);
                assertTrue(ise.getMessage().contains("mpt.threads") && ise.getMessage().contains("'" + bad + "'")
                        && ise.getMessage().contains("setThreads"), ise.getMessage());
            }
            // setThreads replaces the bad setting
            fresh.getMethod("setThreads", int.class).invoke(null, 2);
            AtomicInteger n = new AtomicInteger();
            forEach.invoke(null, 4, (IntConsumer) i -> n.incrementAndGet());
            assertEquals(4, n.get());
            assertEquals(2, fresh.getMethod("threads").invoke(null));
        }
    }

    /** Loads {@link Parallel} afresh in its own class loader with {@code -Dmpt.threads=value} set. */
    private static Class<?> freshParallel(String value) throws Exception {
        URL classes = Parallel.class.getProtectionDomain().getCodeSource().getLocation();
        String before = System.getProperty(Parallel.THREADS_PROPERTY);
        System.setProperty(Parallel.THREADS_PROPERTY, value);
        try {
            ClassLoader loader = new URLClassLoader(new URL[] {classes}, ParallelTest.class.getClassLoader()) {
                @Override
                protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                    if (name.equals(Parallel.class.getName()) || name.startsWith(Parallel.class.getName() + "$")) {
                        synchronized (getClassLoadingLock(name)) {
                            Class<?> c = findLoadedClass(name);
                            return c != null ? c : findClass(name);
                        }
                    }
                    return super.loadClass(name, resolve);
                }
            };
            Class<?> c = Class.forName(Parallel.class.getName(), true, loader);
            return c;
        } finally {
            if (before == null) {
                System.clearProperty(Parallel.THREADS_PROPERTY);
            } else {
                System.setProperty(Parallel.THREADS_PROPERTY, before);
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("timed out");
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
