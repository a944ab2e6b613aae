package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.nn.Dropout;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.data.Standardization;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.MasterWeights;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.schedule.LearningRateSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class TrainerTest {

    /** Epochs of the precision comparison: 8 x 23 steps of 64 samples, a few seconds per run. */
    private static final int EPOCHS = 8;

    private static Dataset train;
    private static Dataset validation;

    @BeforeAll
    static void data() {
        Dataset.Split s = Digits.load().split(0.2, 42);
        Standardization norm = Standardization.fit(s.train());
        train = s.train().normalize(norm);
        validation = s.validation().normalize(norm);
    }

    private static Trainer.Builder digitsTrainer(Precision p, long seed) {
        return Trainer.builder(TestModels.mlp(64, 64, 10, seed))
                .precision(p)
                .optimizer(new Sgd(0.05, 0.9))
                .loss(Losses::crossEntropy)
                .logEvery(0)
                .seed(seed);
    }

    private static Evaluation trainDigits(Precision p, long seed, int epochs) {
        Trainer t = digitsTrainer(p, seed).build();
        Evaluation before = t.evaluate(validation);
        for (int e = 0; e < epochs; e++) {
            for (Batch b : train.batches(64, t.random())) {
                t.step(b);
            }
        }
        Evaluation after = t.evaluate(validation);
        assertTrue(after.meanLoss() < before.meanLoss() / 4, p + ": loss " + before.meanLoss() + " -> " + after.meanLoss());
        return after;
    }

    /**
     * Mixed precision reaches the FP32 accuracy on the 359 held-out digits within 2 percentage
     * points (about 7 samples). Why 2: FP16 rounding (relative 2^-11 on weights and activations)
     * only perturbs the trajectory, as another seed or initialization does (with an earlier
     * initialization the FP32 runs of seeds 1 and 2 ended 0.5 point apart), while a systematic
     * loss from precision (lost updates, flushed gradients) costs far more than 2 points, as
     * {@link ModelLevelFailuresTest} shows. Measured after 8 epochs: FP32, MIXED_FP16 and
     * MIXED_BF16 all at 98.05% for seeds 1 and 2.
     */
    @Test
    void mixedFp16MatchesFp32AndBf16Learns() {
        for (long seed = 1; seed <= 2; seed++) {
            Evaluation fp32 = trainDigits(Precision.FP32, seed, EPOCHS);
            Evaluation fp16 = trainDigits(Precision.MIXED_FP16, seed, EPOCHS);
            Evaluation bf16 = trainDigits(Precision.MIXED_BF16, seed, EPOCHS);
            assertTrue(fp32.accuracy() > 0.93, "FP32 accuracy " + fp32.accuracy());
            assertTrue(Math.abs(fp16.accuracy() - fp32.accuracy()) <= 0.02,
                    "MIXED_FP16 " + fp16.accuracy() + " vs FP32 " + fp32.accuracy());
            assertTrue(bf16.accuracy() > 0.9, "MIXED_BF16 accuracy " + bf16.accuracy());
        }
    }

    @Test
    void buildConvertsTheModelAndStepsReportTheirOutcome() {
        Trainer t = digitsTrainer(Precision.MIXED_FP16, 3).build();
        for (Parameter p : t.model().parameters()) {
            assertEquals(DType.FP16, p.dtype());
        }
        Batch b = train.batches(32).iterator().next();
        StepResult r = t.step(b);
        assertEquals(1, r.outcome().step());
        assertEquals(0x1p16, r.outcome().scale());
        assertTrue(r.loss() > 1 && r.loss() < 5, "initial loss " + r.loss());
        assertTrue(Double.isFinite(r.outcome().gradNorm()) || r.outcome().skipped());
        assertEquals(0.05, r.outcome().learningRate());
        assertEquals(1, t.steps());
    }

    @Test
    void evaluateRestoresTheModelsMode() {
        Trainer t = digitsTrainer(Precision.FP32, 1).build();
        assertTrue(t.model().isTraining());
        Evaluation e = t.evaluate(validation, 100);
        assertEquals(validation.size(), e.samples());
        assertTrue(e.accuracy() >= 0 && e.accuracy() <= 1);
        assertTrue(t.model().isTraining());
        t.model().eval();
        t.evaluate(validation);
        assertFalse(t.model().isTraining());
    }

    @Test
    void logsProgressEveryNSteps() {
        Logger logger = (Logger) LoggerFactory.getLogger(Trainer.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        Level old = logger.getLevel();
        logger.setLevel(Level.INFO);
        try {
            Trainer t = digitsTrainer(Precision.MIXED_FP16, 1).logEvery(2).build();
            for (int i = 0; i < 5; i++) {
                t.step(TestModels.randomBatch(train, t.random(), 16));
            }
            List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(2, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith("step 2 "), lines.get(0));
            assertTrue(lines.get(1).contains("samples/s") && lines.get(1).contains("scale")
                    && lines.get(1).contains("skipped"), lines.get(1));
        } finally {
            logger.detachAppender(logs);
            logger.setLevel(old);
        }
    }

    /** Everything a run's state depends on, as raw bits. */
    private static List<int[]> snapshot(Trainer t) {
        List<int[]> out = new ArrayList<>();
        for (Parameter p : t.model().parameters()) {
            out.add(TestModels.rawBits(p.value()));
        }
        MasterWeights m = t.optimizer().masterWeights();
        for (String n : m.names()) {
            out.add(floatBits(m.master(n)));
            for (String s : m.optimizer().stateNames()) {
                out.add(floatBits(m.state(n, s)));
            }
        }
        return out;
    }

    private static int[] floatBits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }

    /** An MLP with dropout drawing from the trainer's generator, so its masks are checkpointed too. */
    private static Trainer.Builder resumable(long modelSeed) {
        SplitMix64 rng = SplitMix64.seeded(11);
        var init = new java.util.SplittableRandom(modelSeed);
        var model = new Sequential(new Flatten(), new Linear(64, 32, init), new ReLU(), new Dropout(0.2, rng),
                new Linear(32, 10, init));
        return Trainer.builder(model)
                .random(rng)
                .precision(Precision.MIXED_FP16)
                .optimizer(new Adam(3e-3))
                .schedule(LearningRateSchedule.cosine(3e-3, 60, 1e-4))
                .lossScaler(LossScaler.dynamicBuilder().initialScale(0x1p20).growthInterval(4).build())
                .loss(Losses::crossEntropy)
                .clipGradNorm(5)
                .logEvery(0);
    }

    @Test
    void resumedRunWithDropoutMatchesTheUninterruptedRunBitForBit(@TempDir Path dir) throws IOException {
        Trainer a = resumable(5).build();
        for (int i = 0; i < 20; i++) {
            a.step(TestModels.randomBatch(train, a.random(), 32));
        }
        Path file = dir.resolve("ckpt.safetensors");
        a.save(file);
        List<double[]> lossesA = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            StepResult r = a.step(TestModels.randomBatch(train, a.random(), 32));
            lossesA.add(new double[] {r.loss(), r.outcome().scale(), r.outcome().skipped() ? 1 : 0, r.outcome().step()});
        }
        assertTrue(a.optimizer().scaleHolder().scaler().state().skippedSteps() > 0,
                "the run should exercise skipped steps: " + a.optimizer().scaleHolder());

        Trainer b = resumable(99).build();          // different initial weights, overwritten by restore
        b.restore(file);
        List<double[]> lossesB = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            StepResult r = b.step(TestModels.randomBatch(train, b.random(), 32));
            lossesB.add(new double[] {r.loss(), r.outcome().scale(), r.outcome().skipped() ? 1 : 0, r.outcome().step()});
        }
        for (int i = 0; i < lossesA.size(); i++) {
            assertArrayEquals(lossesA.get(i), lossesB.get(i), "step " + i + " after resume");
        }
        List<int[]> sa = snapshot(a);
        List<int[]> sb = snapshot(b);
        assertEquals(sa.size(), sb.size());
        for (int i = 0; i < sa.size(); i++) {
            assertArrayEquals(sa.get(i), sb.get(i), "state array " + i);
        }
        assertEquals(a.optimizer().scaleHolder().scaler(), b.optimizer().scaleHolder().scaler());
        assertEquals(a.random().state(), b.random().state());
        assertEquals(a.optimizer().appliedSteps(), b.optimizer().appliedSteps());
    }

    @Test
    void restoreRejectsForeignFilesAndOtherPrecisions(@TempDir Path dir) throws IOException {
        Trainer a = resumable(5).build();
        a.step(TestModels.randomBatch(train, a.random(), 8));
        Path file = dir.resolve("c.safetensors");
        a.save(file);
        Trainer bf16 = Trainer.builder(TestModels.mlp(64, 32, 10, 5)).precision(Precision.MIXED_BF16)
                .optimizer(new Adam(1e-3)).loss(Losses::crossEntropy).build();
        var e = assertThrows(IllegalArgumentException.class, () -> bf16.restore(file));
        assertTrue(e.getMessage().contains("precision MIXED_FP16"), e.getMessage());
        Trainer other = Trainer.builder(TestModels.mlp(64, 16, 10, 5)).precision(Precision.MIXED_FP16)
                .optimizer(new Adam(1e-3)).loss(Losses::crossEntropy).build();
        e = assertThrows(IllegalArgumentException.class, () -> other.restore(file));
        assertTrue(e.getMessage().contains("1.weight"), e.getMessage());
        Trainer sgd = resumable(6).optimizer(new Sgd(0.1, 0.9)).build();   // same model, other optimizer state
        List<int[]> before = snapshot(sgd);
        e = assertThrows(IllegalArgumentException.class, () -> sgd.restore(file));
        assertTrue(e.getMessage().contains("momentum"), e.getMessage());
        List<int[]> after = snapshot(sgd);
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(before.get(i), after.get(i), "a failed restore changes nothing: array " + i);
        }
        assertEquals(0, sgd.optimizer().appliedSteps());
        Path foreign = dir.resolve("f.safetensors");
        dev.mpt.nn.checkpoint.Safetensors.write(foreign, List.of(), Map.of("format", "something else"));
        e = assertThrows(IllegalArgumentException.class, () -> a.restore(foreign));
        assertTrue(e.getMessage().contains("not a trainer checkpoint"), e.getMessage());
        Files.writeString(dir.resolve("junk"), "junk");
        assertThrows(IOException.class, () -> a.restore(dir.resolve("junk")));
    }

    @Test
    void builderValidatesRequiredSettings() {
        Module m = TestModels.mlp(64, 8, 10, 1);
        var e = assertThrows(IllegalStateException.class,
                () -> Trainer.builder(m).loss(Losses::crossEntropy).build());
        assertTrue(e.getMessage().contains("no optimizer"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> Trainer.builder(m).optimizer(new Sgd(0.1)).build());
        assertTrue(e.getMessage().contains("no loss function"), e.getMessage());
        var a = assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m).optimizer(new Sgd(0.1))
                .loss(Losses::crossEntropy).lossScaler(LossScaler.dynamic()).build());
        assertTrue(a.getMessage().contains("precision FP32 does not scale the loss"), a.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m).optimizer(new Sgd(0.1))
                .loss(Losses::crossEntropy).precision(Precision.FP16_NO_SCALING).lossScaler(LossScaler.fixed(128))
                .build());
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m).clipGradNorm(0));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m).clipGradNorm(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m).logEvery(-1));
        assertThrows(NullPointerException.class, () -> Trainer.builder(null));
        assertThrows(NullPointerException.class, () -> Trainer.builder(m).optimizer(null));
        assertThrows(NullPointerException.class, () -> Trainer.builder(m).precision(null));
        Trainer ok = Trainer.builder(m).optimizer(new Sgd(0.1)).loss(Losses::crossEntropy)
                .precision(Precision.FP16_NO_SCALING).lossScaler(LossScaler.fixed(1)).build();
        assertEquals(1, ok.optimizer().lossScale());
        assertTrue(ok.toString().contains("Sgd[lr=0.1"), ok.toString());
    }

    @Test
    void stepRejectsBadBatches() {
        Trainer t = digitsTrainer(Precision.MIXED_FP16, 1).build();
        Tensor x = Tensor.zeros(4, 64);
        assertThrows(NullPointerException.class, () -> t.step(null, new int[4]));
        assertThrows(NullPointerException.class, () -> t.step(x, (int[]) null));
        assertThrows(NullPointerException.class, () -> t.step((Batch) null));
        var e = assertThrows(IllegalArgumentException.class, () -> t.step(x, new int[3]));
        assertTrue(e.getMessage().contains("first dimension"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.step(x, new int[] {0, 1, -2, 3}));
        assertTrue(e.getMessage().contains("label -2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.step(x, new int[] {0, 1, 10, 3}));
        assertTrue(e.getMessage().contains("label 10"), e.getMessage());
        float[] nan = new float[4 * 64];
        nan[5] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> t.step(Tensor.of(nan, 4, 64), new int[4]));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.evaluate(validation, 0));
        assertThrows(IllegalStateException.class, () -> Trainer.builder(TestModels.mlp(64, 8, 10, 1))
                .optimizer(new Sgd(0.1)).loss((out, labels) -> out).build().step(x, new int[4]));
        assertEquals(0, t.steps(), "rejected batches are not steps");
        assertNotEquals(null, t.random());
        assertTrue(t.random() instanceof SplitMix64);
    }
}
