package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.optim.Adam;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.parallel.DpFixtures.Config;
import dev.mpt.optim.parallel.DpFixtures.Poison;
import dev.mpt.optim.parallel.DpFixtures.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop at step 5, save every rank's shard, resume in a fresh job and train to step 20: the masters
 * equal those of the uninterrupted run bit for bit, with the same number of ranks and with another
 * (4 ranks saved, one rank accumulating the same 4 micro-batches resumed: the same global step).
 */
class ShardedCheckpointTest {

    @TempDir
    Path dir;

    private static Config cfg() {
        return DataParallelEquivalenceTest.fp16Adam();
    }

    @Test
    void resumeWithTheSameWorldSizeEqualsTheUninterruptedRun() {
        List<Result> whole = DpFixtures.train(cfg(), 2, 1, 20, Poison.NONE, null, null);
        DpFixtures.train(cfg(), 2, 1, 5, Poison.NONE, null, dir);
        assertTrue(Files.exists(ShardedCheckpoint.file(dir, 0, 2)) && Files.exists(ShardedCheckpoint.file(dir, 1, 2)));
        List<Result> resumed = DpFixtures.train(cfg(), 2, 1, 20, Poison.NONE, dir, null);
        assertEquals(15, resumed.get(0).outcomes().size(), "resumed at step 5");
        DataParallelEquivalenceTest.assertSameAsReference(whole.get(0), resumed, 5, "resumed");
    }

    @Test
    void resumeWithAnotherWorldSizeReShardsTheState() {
        List<Result> whole = DpFixtures.train(cfg(), 4, 1, 20, Poison.NONE, null, null);
        DpFixtures.train(cfg(), 4, 1, 5, Poison.NONE, null, dir);
        List<Result> resumed = DpFixtures.train(cfg(), 1, 4, 20, Poison.NONE, dir, null);
        DataParallelEquivalenceTest.assertSameAsReference(whole.get(0), resumed, 5, "4 ranks -> 1");
    }

    @Test
    void loadRefusesADirectoryWithoutAWholeCheckpoint() throws IOException {
        var e = assertThrows(IllegalArgumentException.class, () -> loadInto(dir, cfg()));
        assertTrue(e.getMessage().contains("no shard-*-of-*.safetensors files"), e.getMessage());
        DpFixtures.train(cfg(), 2, 1, 1, Poison.NONE, null, dir);
        Files.delete(ShardedCheckpoint.file(dir, 1, 2));
        e = assertThrows(IllegalArgumentException.class, () -> loadInto(dir, cfg()));
        assertTrue(e.getMessage().contains("misses shard-00001-of-00002.safetensors"), e.getMessage());
        Files.copy(ShardedCheckpoint.file(dir, 0, 2), ShardedCheckpoint.file(dir, 0, 3));
        e = assertThrows(IllegalArgumentException.class, () -> loadInto(dir, cfg()));
        assertTrue(e.getMessage().contains("several world sizes [2, 3]"), e.getMessage());
    }

    /** Files of two saves (rank 1's from a later step) do not make a checkpoint. */
    @Test
    void loadRefusesShardsOfDifferentSteps(@TempDir Path later) throws IOException {
        DpFixtures.train(cfg(), 2, 1, 1, Poison.NONE, null, dir);
        DpFixtures.train(cfg(), 2, 1, 2, Poison.NONE, null, later);
        Files.copy(ShardedCheckpoint.file(later, 1, 2), ShardedCheckpoint.file(dir, 1, 2),
                StandardCopyOption.REPLACE_EXISTING);
        var e = assertThrows(IllegalArgumentException.class, () -> loadInto(dir, cfg()));
        assertTrue(e.getMessage().contains("'attemptedSteps' is '2' but rank 0's file has '1'; the files come from different saves"), e.getMessage());
    }

    @Test
    void loadRefusesAnotherModelOrOptimizerState(@TempDir Path other) {
        DpFixtures.train(cfg(), 1, 1, 1, Poison.NONE, null, dir);
        var e = assertThrows(IllegalArgumentException.class, () -> loadInto(dir, new Config(Precision.MIXED_FP16,
                () -> new Adam(1e-2), cfg().scaler(), 0, DpFixtures::mlpWithNorm)));
        assertTrue(e.getMessage().contains("'dp.parameters'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> loadInto(dir, new Config(Precision.MIXED_FP16,
                () -> new Sgd(0.1, 0.9), cfg().scaler(), 0, DpFixtures::mlp)));
        assertTrue(e.getMessage().contains("'dp.stateNames'"), e.getMessage());
    }

    /** Loads {@code from} into a one-rank optimizer of {@code cfg}, unwrapping the launcher's exception. */
    private static void loadInto(Path from, Config cfg) throws IOException {
        try {
            DataParallel.workers(1).run(cfg.model(), w -> {
                ShardedCheckpoint.load(from, cfg.build(w.model(), w.collective()));
                return null;
            });
        } catch (CollectiveException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) {
                throw iae;
            }
            assertInstanceOf(IOException.class, e.getCause());
            throw (IOException) e.getCause();
        }
    }
}
