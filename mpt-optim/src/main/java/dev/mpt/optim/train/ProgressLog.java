package dev.mpt.optim.train;

import dev.mpt.optim.amp.StepOutcome;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a {@link Trainer}'s progress through SLF4J (logger {@code dev.mpt.optim.train.Trainer},
 * level INFO) every {@code every} steps: loss, samples per second since the previous line, the
 * next step's scale and the steps skipped so far. Outside {@link Trainer#fit} the line starts with
 * the global step number; inside, with the epoch and the step within it, and ends with the time
 * remaining, estimated from the average time per step of the fit so far (validation included):
 * <pre>
 * epoch 2/10  step 300/469  loss 0.41230  51234 samples/s  scale 65536.0  skipped 0  eta 1m05s
 * </pre>
 * {@code every == 0} turns logging off.
 */
final class ProgressLog {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final int every;
    private long samplesSinceLog;
    private long nanosAtLog = System.nanoTime();

    // set between startFit and endFit
    private boolean inFit;
    private int epochs;
    private int epoch;
    private long stepsPerEpoch;
    private long stepInEpoch;
    private long stepsDone;
    private long fitStartNanos;

    /** @param every steps between lines; 0 turns logging off */
    ProgressLog(int every) {
        this.every = every;
    }

    int every() {
        return every;
    }

    /** Starts the epoch/step/ETA form of the line for a fit of {@code epochs x stepsPerEpoch} steps. */
    void startFit(int epochs, long stepsPerEpoch) {
        this.inFit = true;
        this.epochs = epochs;
        this.stepsPerEpoch = stepsPerEpoch;
        this.stepsDone = 0;
        this.fitStartNanos = System.nanoTime();
        this.nanosAtLog = fitStartNanos;
        this.samplesSinceLog = 0;
    }

    void startEpoch(int e) {
        epoch = e;
        stepInEpoch = 0;
    }

    void endFit() {
        inFit = false;
    }

    /** Counts the step's samples and logs a line when the step number is a multiple of {@code every}. */
    void afterStep(StepOutcome o, int samples, double loss, long skippedSoFar) {
        samplesSinceLog += samples;
        long n = o.step();
        if (inFit) {
            stepInEpoch++;
            stepsDone++;
            n = stepInEpoch;
        }
        if (every > 0 && n % every == 0) {
            long now = System.nanoTime();
            double perSecond = samplesSinceLog / Math.max(1e-9, (now - nanosAtLog) * 1e-9);
            String common = String.format(Locale.ROOT, "loss %.5f  %.0f samples/s  scale %s  skipped %d", loss,
                    perSecond, o.nextScale(), skippedSoFar);
            if (inFit) {
                double secondsPerStep = (now - fitStartNanos) * 1e-9 / stepsDone;
                long remaining = (long) epochs * stepsPerEpoch - stepsDone;
                LOG.info("epoch {}/{}  step {}/{}  {}  eta {}", epoch, epochs, stepInEpoch, stepsPerEpoch, common,
                        duration(remaining * secondsPerStep));
            } else {
                LOG.info("step {}  {}", o.step(), common);
            }
            samplesSinceLog = 0;
            nanosAtLog = now;
        }
    }

    /** The line logged after each epoch of a fit. */
    void afterEpoch(EpochMetrics m, History h) {
        if (every == 0) {
            return;
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d  train_loss %.5f", m.epoch(),
                epochs, m.trainLoss()));
        if (h.has(Metric.VAL_LOSS)) {
            sb.append(String.format(Locale.ROOT, "  val_loss %.5f", m.valLoss()));
        }
        if (h.has(Metric.VAL_ACCURACY)) {
            sb.append(String.format(Locale.ROOT, "  val_accuracy %.4f", m.valAccuracy()));
        }
        sb.append(String.format(Locale.ROOT, "  lr %s  scale %s  skipped %d  %.1f s  %.0f samples/s",
                m.learningRate(), m.lossScale(), m.skippedSteps(), m.seconds(), m.samplesPerSecond()));
        LOG.info(sb.toString());
    }

    /** {@code 1h02m03s}, {@code 2m05s} or {@code 13s}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
        }
        return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
