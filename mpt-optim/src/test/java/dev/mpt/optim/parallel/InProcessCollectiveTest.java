package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.core.number.Half;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

class InProcessCollectiveTest {

    /** Runs {@code body} on every rank of a new group, each on its own thread; returns the results. */
    private static <T> List<T> onEveryRank(int world, Duration timeout, RankBody<T> body) throws Exception {
        List<Collective> group = InProcessCollective.group(world, timeout);
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (Collective c : group) {
                futures.add(pool.submit(() -> body.run(c)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    interface RankBody<T> {
        T run(Collective c) throws Exception;
    }

    @Test
    void reduceScatterSumsInRankOrderInFp32() throws Exception {
        int world = 3;
        int n = 1001;
        Shards shards = Shards.even(n, world);
        SplittableRandom rnd = new SplittableRandom(7);
        short[][] grads = new short[world][n];
        for (short[] g : grads) {
            for (int i = 0; i < n; i++) {
                g[i] = Half.fromFloat((float) rnd.nextGaussian() * 100);
            }
        }
        IntFunction<float[]> expected = r -> {
            float[] e = new float[shards.length(r)];
            for (int i = 0; i < e.length; i++) {
                int at = shards.start(r) + i;
                float s = Half.toFloat(grads[0][at]);
                for (int q = 1; q < world; q++) {
                    s += Half.toFloat(grads[q][at]);
                }
                e[i] = s;
            }
            return e;
        };
        List<float[]> got = onEveryRank(world, Duration.ofSeconds(10), c -> {
            float[] out = new float[shards.length(c.rank())];
            c.reduceScatter(grads[c.rank()], DType.FP16, shards, out);
            return out;
        });
        for (int r = 0; r < world; r++) {
            assertArrayEquals(expected.apply(r), got.get(r), "rank " + r);
        }
    }

    @Test
    void allGatherAndAnyTrueAgreeOnEveryRank() throws Exception {
        int world = 4;
        Shards shards = Shards.even(10, world);
        List<Object[]> got = onEveryRank(world, Duration.ofSeconds(10), c -> {
            short[] mine = new short[shards.length(c.rank())];
            for (int i = 0; i < mine.length; i++) {
                mine[i] = (short) (shards.start(c.rank()) + i);
            }
            short[] full = new short[10];
            c.allGather(mine, shards, full);
            boolean any = c.anyTrue(c.rank() == 2);
            boolean none = c.anyTrue(false);
            double[] all = c.allGather(new double[] {c.rank(), -c.rank()});
            return new Object[] {full, any, none, all};
        });
        for (Object[] g : got) {
            assertArrayEquals(new short[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, (short[]) g[0]);
            assertEquals(true, g[1]);
            assertEquals(false, g[2]);
            assertArrayEquals(new double[] {0, 0, 1, -1, 2, -2, 3, -3}, (double[]) g[3]);
        }
    }

    @Test
    void aMissingRankMakesTheOthersFailWithinTheDeadline() throws Exception {
        List<Collective> group = InProcessCollective.group(2, Duration.ofMillis(200));
        long t0 = System.nanoTime();
        CollectiveException e = assertThrows(CollectiveException.class, () -> group.get(0).anyTrue(true));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos());
        assertTrue(e.getMessage().contains("waited"), e.getMessage());
    }

    @Test
    void theRanksThatDidNotArriveAreNamed() throws Exception {
        List<Collective> group = InProcessCollective.group(3, Duration.ofSeconds(2));
        CollectiveException e = assertThrows(CollectiveException.class, () -> group.get(0).anyTrue(true));
        assertEquals(-1, e.rank());
        assertTrue(e.getMessage().contains("rank 0 waited PT2S for rank(s) [1, 2]"), e.getMessage());
        // the failure sticks: a rank calling later fails at once, not after another deadline
        long t0 = System.nanoTime();
        e = assertThrows(CollectiveException.class, () -> group.get(1).anyTrue(true));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(1).toNanos());
        assertTrue(e.getMessage().contains("rank 1 gave up"), e.getMessage());
    }

    @Test
    void aRankThatLeavesMakesTheOthersFailAtOnceNamingIt() throws Exception {
        List<Collective> group = InProcessCollective.group(3, Duration.ofSeconds(20));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<CollectiveException>> waiting = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int r = 0; r < 2; r++) {
                Collective c = group.get(r);
                waiting.add(pool.submit(() -> assertThrows(CollectiveException.class, () -> c.anyTrue(false))));
            }
            Thread.sleep(100);
            group.get(2).close(); // as a worker does when its step throws
            for (Future<CollectiveException> f : waiting) {
                CollectiveException e = f.get();
                assertEquals(2, e.rank(), e.getMessage());
                assertTrue(e.getMessage().contains("rank 2 left the group"), e.getMessage());
            }
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void mismatchedShardsAreRejected() {
        Collective c = InProcessCollective.group(1).get(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.reduceScatter(new short[5], DType.FP16, Shards.even(5, 2), new float[5]));
        assertEquals("InProcessCollective.reduceScatter: shards for 2 ranks, but the group has 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> c.reduceScatter(new short[5], DType.FP32, Shards.even(5, 1), new float[5]));
        assertTrue(e.getMessage().contains("must be FP16 or BF16"), e.getMessage());
    }
}
