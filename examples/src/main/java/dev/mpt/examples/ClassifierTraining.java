package dev.mpt.examples;

import dev.mpt.core.Tensor;
import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.Module;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.TrainTest;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.schedule.LearningRateSchedule;
import dev.mpt.optim.train.Evaluation;
import dev.mpt.optim.train.StepResult;
import dev.mpt.optim.train.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongFunction;
import org.slf4j.Logger;

/**
 * The training loop the classifier examples share: a {@link Trainer} in the run's precision,
 * cross-entropy loss, shuffled batches, a progress line every few seconds, evaluation on the test
 * split after each epoch, and two CSV files ({@code <precision>-steps.csv},
 * {@code <precision>-epochs.csv}).
 */
final class ClassifierTraining {

    /** How often a progress line is logged. */
    static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(10);

    /**
     * What to train.
     *
     * @param model     the model, freshly initialised (in FP32; the trainer converts it)
     * @param optimizer the optimizer
     * @param data      training and test splits
     * @param batchSize samples per step
     * @param epochs    passes over the training split
     * @param schedule  the learning-rate schedule for a run of the given number of steps, or null
     *                  for the optimizer's own rate
     */
    record Setup(Module model, Optimizer optimizer, TrainTest data, int batchSize, int epochs,
                 LongFunction<LearningRateSchedule> schedule) {
    }

    private ClassifierTraining() {
    }

    static RunResult run(Setup s, PrecisionOption p, CommonOptions common, Path dir, Logger log) {
        int perEpoch = Math.min(common.maxSteps(), s.data().train().batches(s.batchSize()).count());
        long total = (long) perEpoch * s.epochs();
        Trainer.Builder builder = Trainer.builder(s.model()).precision(p.precision()).optimizer(s.optimizer())
                .loss(Losses::crossEntropy).seed(common.seed()).logEvery(0);
        LearningRateSchedule schedule = s.schedule() == null ? null : s.schedule().apply(total);
        if (schedule != null) {
            builder.schedule(schedule);
        }
        Trainer trainer = builder.build();
        String label = p.cliName();
        log.info("{}: {} parameters, {}{}, batch {}, {} epochs, {} training samples", label,
                s.model().parameterCount(), s.optimizer(), schedule == null ? "" : ", " + schedule, s.batchSize(),
                s.epochs(), s.data().train().size());
        var progress = new Progress(log, label, total, PROGRESS_INTERVAL);
        double[] steps = new double[(int) total];
        double[] losses = new double[(int) total];
        int k = 0;
        long skipped = 0;
        double trainNanos = 0;
        double scale = 1;
        Evaluation eval = null;
        try (var stepCsv = new MetricsCsv(dir.resolve(label + "-steps.csv"),
                List.of("step", "epoch", "loss", "scale", "skipped"));
             var epochCsv = new MetricsCsv(dir.resolve(label + "-epochs.csv"),
                     List.of("epoch", "train_loss", "test_loss", "test_accuracy", "train_seconds"))) {
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                long t0 = System.nanoTime();
                double lossSum = 0;
                int n = 0;
                int finite = 0;
                for (Batch b : s.data().train().batches(s.batchSize(), trainer.random())) {
                    if (n == perEpoch) {
                        break;
                    }
                    StepResult r = trainer.step(b);
                    skipped += r.outcome().skipped() ? 1 : 0;
                    scale = trainer.optimizer().lossScale();
                    steps[k] = r.outcome().step();
                    losses[k++] = r.loss();
                    n++;
                    if (Double.isFinite(r.loss())) {
                        lossSum += r.loss();
                        finite++;
                    }
                    stepCsv.row(r.outcome().step(), epoch, r.loss(), r.outcome().scale(), r.outcome().skipped() ? 1 : 0);
                    progress.step(k, b.size(), r.loss(), r.outcome().scale(), skipped);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                trainNanos += seconds;
                eval = trainer.evaluate(s.data().test());
                double trainLoss = lossSum / Math.max(1, finite);
                epochCsv.row(epoch, trainLoss, eval.meanLoss(), eval.accuracy(), seconds);
                log.info(String.format(java.util.Locale.ROOT,
                        "%s epoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.1f s",
                        label, epoch, s.epochs(), trainLoss, eval.meanLoss(), eval.accuracy(), seconds));
            }
        }
        Batch probe = s.data().test().batches(s.batchSize()).iterator().next();
        Tensor input = probe.inputs().to(p.precision().modelDtype());
        return new RunResult(label, "test accuracy", eval.accuracy(), trainNanos / s.epochs(),
                Memory.weights(s.model()), Memory.masters(trainer.optimizer().masterWeights()),
                Memory.activations(s.model(), input), k, skipped, scale,
                new double[][] {Arrays.copyOf(steps, k), Arrays.copyOf(losses, k)});
    }
}
