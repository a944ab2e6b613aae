package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.data.Standardization;
import dev.mpt.nn.data.TargetDataset;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** {@link Trainer#fit}: the loop, its history and CSV, the built-in callbacks, regression and multi-hot targets. */
class FitTest {

    /** 1,438 training digits: 23 batches of 64 (the last one of 30). */
    private static Dataset train;
    private static Dataset validation;

    @BeforeAll
    static void data() {
        Dataset.Split s = Digits.load().split(0.2, 42);
        Standardization norm = Standardization.fit(s.train());
        train = s.train().normalize(norm);
        validation = s.validation().normalize(norm);
    }

    static Trainer.Builder digits(Precision p, double lr) {
        return Trainer.builder(TestModels.mlp(64, 32, 10, 5)).precision(p).optimizer(new Sgd(lr, 0.9))
                .loss(Losses::crossEntropy).logEvery(0).seed(11);
    }

    private static List<int[]> weights(Trainer t) {
        List<int[]> out = new ArrayList<>();
        for (Parameter p : t.model().parameters()) {
            out.add(TestModels.rawBits(p.value()));
        }
        return out;
    }

    private static void assertSameWeights(List<int[]> expected, List<int[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "parameter " + i);
        }
    }

    @Test
    void aTinyClassifierLearnsAndEveryEpochIsRecorded() {
        Trainer t = digits(Precision.MIXED_FP16, 0.05).build();
        History h = t.fit(train, validation, FitOptions.of(4).batchSize(64));
        assertEquals(4, h.size());
        assertTrue(h.stopReason().isEmpty());
        assertTrue(h.has(Metric.VAL_LOSS) && h.has(Metric.VAL_ACCURACY));
        for (int e = 0; e < 4; e++) {
            EpochMetrics m = h.epochs().get(e);
            assertEquals(e + 1, m.epoch());
            assertEquals(23, m.steps());
            assertEquals(0.05, m.learningRate());
            assertTrue(m.seconds() > 0 && m.samplesPerSecond() > 0, m.toString());
        }
        double[] loss = h.values(Metric.TRAIN_LOSS);
        assertTrue(loss[3] < loss[0] / 2, "train loss " + loss[0] + " -> " + loss[3]);
        assertTrue(h.last().valAccuracy() > 0.9, "validation accuracy " + h.last().valAccuracy());
        // the last row is the trainer's state after the fit
        Evaluation now = t.evaluate(validation);
        assertEquals(now.meanLoss(), h.last().valLoss());
        assertEquals(now.accuracy(), h.last().valAccuracy());
        assertEquals(t.optimizer().lossScale(), h.last().lossScale());
        assertEquals(4 * 23, t.steps());
        long skipped = h.epochs().stream().mapToLong(EpochMetrics::skippedSteps).sum();
        assertEquals(t.optimizer().scaleHolder().scaler().state().skippedSteps(), skipped);
    }

    /**
     * fit is the hand-written loop: the same batches from the trainer's generator, the same steps,
     * bit for bit; its train loss is the batch losses weighted by batch size. The one-sample
     * output check before the first step changes nothing.
     */
    @Test
    void fitStepsExactlyAsTheManualLoop() {
        Trainer manual = digits(Precision.MIXED_FP16, 0.05).build();
        double[] expectedLoss = new double[2];
        for (int e = 0; e < 2; e++) {
            double sum = 0;
            for (Batch b : train.batches(64, manual.random())) {
                sum += manual.step(b).loss() * b.size();
            }
            expectedLoss[e] = sum / train.size();
        }
        Trainer fitted = digits(Precision.MIXED_FP16, 0.05).build();
        History h = fitted.fit(train, null, FitOptions.of(2).batchSize(64));
        assertSameWeights(weights(manual), weights(fitted));
        assertEquals(manual.random().state(), fitted.random().state());
        assertArrayEquals(expectedLoss, h.values(Metric.TRAIN_LOSS));
        assertFalse(h.has(Metric.VAL_LOSS));
    }

    @Test
    void withoutShufflingTheGeneratorIsNotDrawnFrom() {
        Trainer manual = digits(Precision.FP32, 0.05).build();
        for (Batch b : train.batches(100)) {
            manual.step(b);
        }
        Trainer fitted = digits(Precision.FP32, 0.05).build();
        long rng = fitted.random().state();
        fitted.fit(train, null, FitOptions.of(1).batchSize(100).shuffle(false));
        assertEquals(rng, fitted.random().state());
        assertSameWeights(weights(manual), weights(fitted));
    }

    /** y = 2 x0 - 3 x1 + 0.5 + noise(sd 0.1): the MSE falls from about 14 to the noise's 0.01. */
    @Test
    void regressionFitLowersTheMse() {
        var rng = new SplittableRandom(3);
        float[][] x = new float[320][2];
        float[] y = new float[320];
        for (int i = 0; i < x.length; i++) {
            x[i][0] = (float) rng.nextGaussian();
            x[i][1] = (float) rng.nextGaussian();
            y[i] = (float) (2 * x[i][0] - 3 * x[i][1] + 0.5 + 0.1 * rng.nextGaussian());
        }
        TargetDataset tr = TargetDataset.of(flat(x, 0, 256), new int[] {2}, Arrays.copyOf(y, 256),
                new int[] {1});
        TargetDataset va = TargetDataset.of(flat(x, 256, 320), new int[] {2},
                Arrays.copyOfRange(y, 256, 320), new int[] {1});
        var init = SplitMix64.seeded(4);
        Trainer t = Trainer.builder(new Sequential(new Linear(2, 16, init), new ReLU(), new Linear(16, 1, init)))
                .optimizer(new Adam(0.02)).targetLoss(Losses::mse).logEvery(0).seed(5).build();
        double before = t.evaluate(va).meanLoss();
        History h = t.fit(tr, 25, va);
        assertEquals(25, h.size());
        assertTrue(Double.isNaN(h.last().valAccuracy()));
        assertFalse(h.has(Metric.VAL_ACCURACY));
        assertFalse(h.toCsv().contains("val_accuracy"));
        // the noise alone gives 0.01; a model that learnt the plane is within a few times that
        assertTrue(before > 5, "initial MSE " + before);
        assertTrue(h.last().valLoss() < 0.1, "validation MSE " + before + " -> " + h.last().valLoss());
        assertEquals(t.evaluate(va).meanLoss(), h.last().valLoss());
    }

    private static float[] flat(float[][] rows, int from, int to) {
        float[] out = new float[(to - from) * rows[0].length];
        for (int i = from; i < to; i++) {
            System.arraycopy(rows[i], 0, out, (i - from) * rows[0].length, rows[0].length);
        }
        return out;
    }

    /** Two independent tags, tag c set when x_c > 0: BCE falls from log 2 = 0.69 to well below. */
    @Test
    void multiHotFitLowersTheBce() {
        var rng = new SplittableRandom(8);
        float[][] x = new float[200][2];
        int[][] tags = new int[200][];
        for (int i = 0; i < x.length; i++) {
            x[i][0] = (float) rng.nextGaussian();
            x[i][1] = (float) rng.nextGaussian();
            tags[i] = x[i][0] > 0 ? (x[i][1] > 0 ? new int[] {0, 1} : new int[] {0})
                    : (x[i][1] > 0 ? new int[] {1} : new int[0]);
        }
        TargetDataset data = TargetDataset.multiHot(x, tags, 2);
        var init = SplitMix64.seeded(9);
        Trainer t = Trainer.builder(new Sequential(new Linear(2, 8, init), new ReLU(), new Linear(8, 2, init)))
                .precision(Precision.MIXED_FP16).optimizer(new Adam(0.03)).targetLoss(Losses::bceWithLogits)
                .logEvery(0).seed(2).build();
        double before = t.evaluate(data).meanLoss();
        History h = t.fit(data, 15, data);
        assertTrue(h.last().valLoss() < before / 3, "BCE " + before + " -> " + h.last().valLoss());
    }

    @Test
    void csvHoldsEveryValueAndParsesBack(@TempDir Path dir) throws IOException {
        Trainer t = digits(Precision.MIXED_FP16, 0.05).build();
        History h = t.fit(train, validation, FitOptions.of(3).batchSize(128));
        Path file = dir.resolve("history.csv");
        h.writeCsv(file);
        List<String> lines = Files.readAllLines(file);
        assertEquals("epoch,train_loss,val_loss,val_accuracy,learning_rate,loss_scale,steps,skipped_steps,seconds,"
                + "samples_per_second", lines.get(0));
        assertEquals(4, lines.size());
        for (int e = 0; e < 3; e++) {
            String[] c = lines.get(e + 1).split(",");
            EpochMetrics m = h.epochs().get(e);
            assertEquals(10, c.length);
            assertEquals(m.epoch(), Integer.parseInt(c[0]));
            assertEquals(m.trainLoss(), Double.parseDouble(c[1]));
            assertEquals(m.valLoss(), Double.parseDouble(c[2]));
            assertEquals(m.valAccuracy(), Double.parseDouble(c[3]));
            assertEquals(m.learningRate(), Double.parseDouble(c[4]));
            assertEquals(m.lossScale(), Double.parseDouble(c[5]));
            assertEquals(m.steps(), Long.parseLong(c[6]));
            assertEquals(m.skippedSteps(), Long.parseLong(c[7]));
            assertEquals(m.seconds(), Double.parseDouble(c[8]));
            assertEquals(m.samplesPerSecond(), Double.parseDouble(c[9]));
        }
        assertEquals(12, h.epochs().getFirst().steps());          // ceil(1438 / 128)
    }

    @Test
    void logsEpochStepEtaAndAnEpochLine() {
        Logger logger = (Logger) LoggerFactory.getLogger(Trainer.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        Level old = logger.getLevel();
        logger.setLevel(Level.INFO);
        try {
            Trainer t = digits(Precision.MIXED_FP16, 0.05).logEvery(10).build();
            t.fit(train, validation, FitOptions.of(2).batchSize(64));
        } finally {
            logger.detachAppender(logs);
            logger.setLevel(old);
        }
        List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        // 23 steps per epoch: lines at steps 10 and 20 of each, then the epoch line
        assertEquals(6, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("epoch 1/2  step 10/23  loss \\d+\\.\\d{5}  \\d+ samples/s  scale 65536\\.0  "
                + "skipped \\d+  eta \\d+s"), lines.get(0));
        assertTrue(lines.get(1).startsWith("epoch 1/2  step 20/23  "), lines.get(1));
        assertTrue(lines.get(2).matches("epoch 1/2  train_loss \\d\\.\\d{5}  val_loss \\d\\.\\d{5}  val_accuracy "
                + "\\d\\.\\d{4}  lr 0\\.05  scale \\d+\\.0  skipped \\d+  \\d+\\.\\d s  \\d+ samples/s"), lines.get(2));
        assertTrue(lines.get(3).startsWith("epoch 2/2  step 10/23  "), lines.get(3));
        assertTrue(lines.get(5).startsWith("epoch 2/2  train_loss "), lines.get(5));
    }

    @Test
    void etaIsPrintedInHoursMinutesAndSeconds() {
        assertEquals("0s", ProgressLog.duration(0.2));
        assertEquals("59s", ProgressLog.duration(59.4));
        assertEquals("2m05s", ProgressLog.duration(125));
        assertEquals("1h02m03s", ProgressLog.duration(3723));
    }
}
