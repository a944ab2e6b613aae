package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.optim.parallel.DpFixtures.Poison;
import dev.mpt.optim.parallel.DpFixtures.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data-parallel step over TCP gives the FP32 masters of one process accumulating the same
 * micro-batches in rank order, bit for bit (the promise {@link DataParallelEquivalenceTest} holds
 * for threads): two ranks on threads of this JVM, and three child JVMs that lose a rank at step 7
 * and resume from the step-5 checkpoint.
 */
class TcpTrainingTest {

    private static final int STEPS = DataParallelEquivalenceTest.STEPS;

    @Test
    void twoTcpRanksOnThreadsMatchTheReference() throws Exception {
        Result reference = DpFixtures.train(DataParallelEquivalenceTest.fp16Adam(), 1, 2, STEPS, Poison.NONE, null,
                null).get(0);
        List<List<String>> ranks = Ranks.onTcp(2, JobSecret.random(), Duration.ofSeconds(10), c -> {
            var cfg = DataParallelEquivalenceTest.fp16Adam();
            var model = cfg.model().get();
            DataParallelOptimizer opt = cfg.build(model, c);
            for (int t = 0; t < STEPS; t++) {
                opt.zeroGrad();
                opt.scale(DpFixtures.loss(model, cfg.precision(), t, c.rank(), false)).backward();
                opt.step();
            }
            return DpWorkerMain.lines(opt.allMasters());
        });
        for (List<String> r : ranks) {
            assertEquals(DpWorkerMain.lines(reference.masters()), r);
        }
    }

    @Test
    void threeJvmsKilledAtStepSevenResumeFromStepFiveToTheReference(@TempDir Path dir) throws Exception {
        int world = 3;
        Duration timeout = Duration.ofSeconds(5);
        String main = DpWorkerMain.class.getName();
        int[] codes = ProcessLauncher.builder().workers(world).mainClass(main).timeout(timeout).logDirectory(dir)
                .args(List.of(dir.toString(), "save-at", "5", "die-at", "7")).build().run();
        assertArrayEquals(new int[] {2, 3, 2}, codes, () -> log(dir, 0));
        for (int r : new int[] {0, 2}) {
            String[] failure = Files.readString(dir.resolve("rank-" + r + ".failure")).split(" ", 3);
            assertEquals("1", failure[0], failure[2]);
            // a killed process's connections close at once: the step fails without waiting for the timeout
            assertTrue(Long.parseLong(failure[1]) < timeout.toMillis(), failure[1] + " ms: " + failure[2]);
        }

        codes = ProcessLauncher.builder().workers(world).mainClass(main).timeout(timeout).logDirectory(dir)
                .args(List.of(dir.toString(), "resume")).build().run();
        assertArrayEquals(new int[world], codes, () -> log(dir, 0));

        Result reference = DpFixtures.train(DataParallelEquivalenceTest.fp16Adam(), 1, world, STEPS, Poison.NONE,
                null, null).get(0);
        List<String> steps = DataParallelEquivalenceTest.summary(reference.outcomes());
        for (int r = 0; r < world; r++) {
            assertEquals(DpWorkerMain.lines(reference.masters()), Files.readAllLines(dir.resolve("rank-" + r
                    + ".masters")), "rank " + r);
            assertEquals(steps.subList(5, STEPS), Files.readAllLines(dir.resolve("rank-" + r + ".steps")),
                    "rank " + r);
        }
    }

    private static String log(Path dir, int rank) {
        try {
            return Files.readString(dir.resolve("rank-" + rank + ".log"));
        } catch (Exception e) {
            return e.toString();
        }
    }
}
