package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The in-process launcher: results in rank order, the first failure named, and no hang. */
class DataParallelTest {

    @Test
    void runsOneBodyPerRankAndReturnsTheResultsInRankOrder() {
        List<String> out = DataParallel.workers(3).run(DpFixtures::mlp, w -> {
            boolean any = w.collective().anyTrue(w.rank() == 2);
            return w.rank() + "/" + w.worldSize() + ":" + any + ":" + (w.collective().rank() == w.rank());
        });
        assertEquals(List.of("0/3:true:true", "1/3:true:true", "2/3:true:true"), out);
    }

    @Test
    void theFirstFailureIsRethrownNamingItsRankAndTheOthersStopAtOnce() {
        long start = System.nanoTime();
        var e = assertThrows(CollectiveException.class, () -> DataParallel.workers(3).run(DpFixtures::mlp, w -> {
            for (int step = 0; ; step++) {
                if (w.rank() == 1 && step == 3) {
                    throw new IllegalArgumentException("bad batch at step 3");
                }
                w.collective().anyTrue(false);
            }
        }));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1, e.rank());
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertTrue(e.getMessage().contains("rank 1 of 3 failed") && e.getMessage().contains("bad batch at step 3"),
                e.getMessage());
        assertEquals(2, e.getSuppressed().length, "the other ranks' failures are attached");
        // the others fail when rank 1 closes its collective, not after the 30 s collective timeout
        assertTrue(seconds < 10, "took " + seconds + " s");
    }

    @Test
    void aRankThatHangsMakesTheOthersFailWithinTheCollectiveTimeout() {
        long start = System.nanoTime();
        var e = assertThrows(CollectiveException.class, () -> DataParallel.workers(2)
                .collectiveTimeout(Duration.ofMillis(300)).run(DpFixtures::mlp, w -> {
                    if (w.rank() == 1) {
                        Thread.sleep(60_000);      // hangs (interruptible, as the launcher interrupts it)
                    }
                    return w.collective().anyTrue(true);
                }));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(0, e.rank());
        assertInstanceOf(CollectiveException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("waited PT0.3S for rank(s) [1]"), e.getCause().getMessage());
        assertTrue(seconds < 10, "took " + seconds + " s");
    }

    @Test
    void theDeadlineBoundsTheWholeRun() {
        long start = System.nanoTime();
        var e = assertThrows(CollectiveException.class, () -> DataParallel.workers(2).deadline(Duration.ofMillis(300))
                .run(DpFixtures::mlp, w -> {
                    Thread.sleep(60_000);
                    return null;
                }));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(e.getMessage().contains("did not finish within the deadline PT0.3S"), e.getMessage());
        assertTrue(seconds < 10, "took " + seconds + " s");
    }

    @Test
    void badArgumentsAreRefusedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class, () -> DataParallel.workers(0));
        assertEquals("DataParallel.workers: need at least 1 worker, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DataParallel.workers(2).deadline(Duration.ZERO));
        assertTrue(e.getMessage().contains("DataParallel.deadline: must be positive"), e.getMessage());
        assertThrows(NullPointerException.class, () -> DataParallel.workers(2).run(null, w -> null));
        var f = assertThrows(CollectiveException.class, () -> DataParallel.workers(1).run(() -> null, w -> null));
        assertTrue(f.getCause().getMessage().contains("factory returned null"), f.getCause().getMessage());
    }
}
