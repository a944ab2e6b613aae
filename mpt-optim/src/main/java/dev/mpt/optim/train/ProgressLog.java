package dev.mpt.optim.train;

import dev.mpt.optim.amp.StepOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a {@link Trainer}'s progress through SLF4J (logger {@code dev.mpt.optim.train.Trainer},
 * level INFO) every {@code every} steps: step, loss, samples per second since the previous line,
 * the next step's scale and the steps skipped so far.
 */
final class ProgressLog {

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final int every;
    private long samplesSinceLog;
    private long nanosAtLog = System.nanoTime();

    /** @param every steps between lines; 0 turns logging off */
    ProgressLog(int every) {
        this.every = every;
    }

    int every() {
        return every;
    }

    /** Counts the step's samples and logs a line when the step number is a multiple of {@code every}. */
    void afterStep(StepOutcome o, int samples, double loss, long skippedSoFar) {
        samplesSinceLog += samples;
        if (every > 0 && o.step() % every == 0) {
            long now = System.nanoTime();
            double perSecond = samplesSinceLog / Math.max(1e-9, (now - nanosAtLog) * 1e-9);
            LOG.info(String.format("step %d  loss %.5f  %.0f samples/s  scale %s  skipped %d", o.step(), loss,
                    perSecond, o.nextScale(), skippedSoFar));
            samplesSinceLog = 0;
            nanosAtLog = now;
        }
    }
}
