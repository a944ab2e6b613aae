package dev.mpt.optim.parallel.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.parallel.Collective;
import dev.mpt.optim.parallel.DataParallel;
import dev.mpt.optim.parallel.DataParallelOptimizer;
import dev.mpt.optim.parallel.ShardedCheckpoint;
import dev.mpt.optim.scaling.LossScaler;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.TaskContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty steps of the data-parallel step (FP16, Adam, dynamic loss scaling) on Spark
 * {@code local[4]} end with the FP32 masters of the same run on four in-process workers, bit for
 * bit; each rank trains on its own partition. (That in-process run equals one process
 * accumulating the four micro-batches: {@code DataParallelEquivalenceTest} in mpt-optim.)
 */
class SparkTrainingTest {

    private static final int WORKERS = 4;
    private static final int STEPS = 20;
    private static final int MICRO = 6;
    private static final int IN = 8;
    private static final int CLASSES = 3;
    private static final String RESUMED_FROM = "(resumed from step)";

    /** One training sample. */
    record Sample(float[] x, int y) implements Serializable {
    }

    static Module model() {
        var rng = new SplittableRandom(3);
        return new Sequential(new Linear(IN, 32, rng), new ReLU(), new Linear(32, CLASSES, rng));
    }

    /** Trains STEPS steps on this rank's samples, MICRO per step; returns the masters' bits. */
    static Map<String, List<Integer>> train(Module model, Collective c, Iterator<Sample> samples) {
        try {
            return train(model, c, samples, null, -1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * As {@link #train(Module, Collective, Iterator)}, resuming from {@code checkpoint} when it holds
     * one (skipping the samples of the steps it covers), saving it after step 5, and failing rank 1
     * at step 7 when {@code failAt} is 7.
     */
    static Map<String, List<Integer>> train(Module model, Collective c, Iterator<Sample> samples, Path checkpoint,
            int failAt) throws IOException {
        DataParallelOptimizer opt = DataParallelOptimizer.builder(model, c, new Adam(1e-2))
                .precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.dynamicBuilder().initialScale(0x1p20).growthInterval(3).build()).build();
        int start = 0;
        if (checkpoint != null && Files.isDirectory(checkpoint)) {
            ShardedCheckpoint.load(checkpoint, opt);
            start = (int) opt.attemptedSteps();
            for (int i = 0; i < start * MICRO; i++) {
                samples.next();
            }
        }
        for (int t = start; t < STEPS; t++) {
            if (t == failAt && c.rank() == 1) {
                throw new IllegalStateException("rank 1 fails at step " + t);
            }
            float[] x = new float[MICRO * IN];
            int[] y = new int[MICRO];
            for (int i = 0; i < MICRO; i++) {
                Sample s = samples.next();
                System.arraycopy(s.x(), 0, x, i * IN, IN);
                y[i] = s.y();
            }
            opt.zeroGrad();
            Tensor loss = Losses.crossEntropy(model.forward(Tensor.of(x, MICRO, IN).to(Precision.MIXED_FP16
                    .modelDtype())), y);
            opt.scale(loss).backward();
            opt.step();
            if (checkpoint != null && t + 1 == 5) {
                ShardedCheckpoint.save(checkpoint, opt);
            }
        }
        Map<String, List<Integer>> bits = new LinkedHashMap<>();
        if (checkpoint != null) {
            bits.put(RESUMED_FROM, List.of(start));
        }
        opt.allMasters().forEach((n, v) -> {
            List<Integer> b = new ArrayList<>();
            for (float f : v) {
                b.add(Float.floatToRawIntBits(f));
            }
            bits.put(n, b);
        });
        return bits;
    }

    static List<Sample> samples(int count) {
        SplittableRandom rnd = new SplittableRandom(42);
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float[] x = new float[IN];
            for (int k = 0; k < IN; k++) {
                x[k] = (float) rnd.nextGaussian();
            }
            samples.add(new Sample(x, rnd.nextInt(CLASSES)));
        }
        return samples;
    }

    @Test
    void twentyStepsOnFourBarrierTasksEqualFourInProcessWorkers() {
        int perRank = STEPS * MICRO;
        List<Sample> samples = samples(WORKERS * perRank);
        // parallelize into WORKERS slices gives partition r the contiguous samples [r * perRank, (r + 1) * perRank)
        List<Map<String, List<Integer>>> onSpark = SparkDataParallel.builder().workers(WORKERS)
                .timeout(Duration.ofSeconds(30)).build()
                .run(LocalSpark.context().parallelize(samples, WORKERS),
                        (c, partition) -> train(model(), c, partition));
        List<Map<String, List<Integer>>> inProcess = DataParallel.workers(WORKERS).run(SparkTrainingTest::model,
                w -> train(w.model(), w.collective(),
                        samples.subList(w.rank() * perRank, (w.rank() + 1) * perRank).iterator()));
        for (int r = 0; r < WORKERS; r++) {
            assertEquals(inProcess.get(0), onSpark.get(r), "rank " + r);
        }
    }

    /**
     * Rank 1 fails at step 7 of the first stage attempt; Spark relaunches the stage, every rank
     * resumes from the step-5 checkpoint and the run ends with the uninterrupted run's masters.
     */
    @Test
    void aFailedStageResumesFromTheLastCheckpoint(@TempDir Path tmp) {
        int perRank = STEPS * MICRO;
        List<Sample> samples = samples(WORKERS * perRank);
        String dir = tmp.resolve("step-5").toString();
        List<Map<String, List<Integer>>> resumed = SparkDataParallel.builder().workers(WORKERS)
                .timeout(Duration.ofSeconds(30)).build()
                .run(LocalSpark.context().parallelize(samples, WORKERS), (c, partition) -> train(model(), c, partition,
                        Path.of(dir), TaskContext.get().stageAttemptNumber() == 0 ? 7 : -1));
        List<Map<String, List<Integer>>> uninterrupted = DataParallel.workers(WORKERS).run(SparkTrainingTest::model,
                w -> train(w.model(), w.collective(),
                        samples.subList(w.rank() * perRank, (w.rank() + 1) * perRank).iterator()));
        for (int r = 0; r < WORKERS; r++) {
            Map<String, List<Integer>> bits = new LinkedHashMap<>(resumed.get(r));
            assertEquals(List.of(5), bits.remove(RESUMED_FROM), "rank " + r + " ran the relaunched stage from step 5");
            assertEquals(uninterrupted.get(0), bits, "rank " + r);
        }
    }
}
