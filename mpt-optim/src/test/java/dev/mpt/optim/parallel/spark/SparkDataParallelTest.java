package dev.mpt.optim.parallel.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.optim.parallel.Collective;
import dev.mpt.optim.parallel.InProcessCollective;
import dev.mpt.optim.parallel.Shards;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.apache.spark.TaskContext;
import org.junit.jupiter.api.Test;

/** Four barrier tasks of Spark {@code local[4]} meet once and compute what four threads do, bit for bit. */
class SparkDataParallelTest {

    private static final int WORKERS = 4;
    private static final int N = 10_001;

    /** What each rank returns: every partition's sum and size, its reduced shard, the gathered vector. */
    record Out(double[] partitions, float[] reduced, short[] gathered) implements Serializable {
    }

    /** One "step" on seeded per-rank gradients, and the all-gather of each partition's sum and size. */
    static Out step(Collective c, Iterator<Integer> partition) {
        double sum = 0;
        int count = 0;
        while (partition.hasNext()) {
            sum += partition.next();
            count++;
        }
        Shards shards = Shards.even(N, c.worldSize());
        SplittableRandom rnd = new SplittableRandom(100 + c.rank());
        short[] grads = new short[N];
        for (int i = 0; i < N; i++) {
            grads[i] = (short) rnd.nextInt(1 << 16);
        }
        float[] reduced = new float[shards.length(c.rank())];
        c.reduceScatter(grads, DType.BF16, shards, reduced);
        short[] gathered = new short[N];
        c.allGather(java.util.Arrays.copyOfRange(grads, shards.start(c.rank()), shards.end(c.rank())), shards,
                gathered);
        return new Out(c.allGather(new double[] {sum, count}), reduced, gathered);
    }

    @Test
    void barrierTasksComputeWhatThreadsDo() throws Exception {
        List<Integer> samples = IntStream.rangeClosed(1, 4000).boxed().toList();
        List<Out> got = SparkDataParallel.builder().workers(WORKERS).timeout(Duration.ofSeconds(20)).build()
                .run(LocalSpark.context().parallelize(samples, 3), SparkDataParallelTest::step);

        List<Collective> group = InProcessCollective.group(WORKERS);
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
        List<Future<Out>> expected = new ArrayList<>();
        for (Collective c : group) {
            expected.add(pool.submit(() -> step(c, List.<Integer>of().iterator())));
        }
        pool.shutdown();
        double total = 0;
        double seen = 0;
        for (int r = 0; r < WORKERS; r++) {
            Out e = expected.get(r).get();
            assertArrayEquals(e.reduced(), got.get(r).reduced(), "rank " + r);
            assertArrayEquals(e.gathered(), got.get(r).gathered(), "rank " + r);
            assertArrayEquals(got.get(0).partitions(), got.get(r).partitions(), "rank " + r);
            total += got.get(0).partitions()[2 * r];
            seen += got.get(0).partitions()[2 * r + 1];
        }
        // every sample went to exactly one rank
        assertEquals(4000, seen);
        assertEquals(4000.0 * 4001 / 2, total);
    }

    @Test
    void aFailingTaskFailsTheRunAndNoTaskHangs() {
        long t0 = System.nanoTime();
        Exception e = assertThrows(Exception.class, () -> SparkDataParallel.builder().workers(WORKERS)
                .timeout(Duration.ofSeconds(300)).build()
                .run(LocalSpark.context().parallelize(List.of(1, 2, 3, 4), WORKERS), (c, partition) -> {
                    if (c.rank() == 2) {
                        throw new IllegalStateException("rank 2 broke at step 7");
                    }
                    return c.anyTrue(false);
                }));
        // Spark reports the first failed task: rank 2 itself, or a rank whose collective names rank 2
        String m = String.valueOf(e.getMessage());
        assertTrue(m.contains("rank 2 broke at step 7") || m.contains("CollectiveException") && m.contains(
                "rank 2 closed its connection") || m.contains("lost its connection to rank 2"), m);
        // the others fail as soon as rank 2's connections close, not after the 300 s collective timeout
        // (the run took 23-27 s on a 2-core machine at load 20+, so the bound leaves room for that)
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        assertTrue(seconds < 120, "the failed run took " + seconds + " s");
    }

    @Test
    void aFailedStageIsRelaunchedWithFreshAddresses() {
        List<Integer> attempts = SparkDataParallel.builder().workers(WORKERS).timeout(Duration.ofSeconds(30)).build()
                .run(LocalSpark.context().parallelize(List.of(1, 2, 3, 4), WORKERS), (c, partition) -> {
                    int attempt = TaskContext.get().stageAttemptNumber();
                    if (attempt == 0 && c.rank() == 1) {
                        throw new IllegalStateException("rank 1 fails in the first attempt");
                    }
                    c.anyTrue(false); // the relaunched ranks are connected to each other
                    return attempt;
                });
        assertEquals(List.of(1, 1, 1, 1), attempts);
    }

    @Test
    void workersMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkDataParallel.builder().workers(0).build());
        assertEquals("SparkDataParallel: workers must be >= 1, got 0", e.getMessage());
    }
}
