package dev.mpt.examples;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * Logs a progress line at most every {@code interval}: step, loss, samples/s, loss scale, skipped
 * steps so far and the estimated time left.
 */
public final class Progress {

    private final Logger log;
    private final String label;
    private final long totalSteps;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long lastLog = start;
    private long samples;

    /** A progress reporter for {@code totalSteps} steps, logging at most once per {@code interval}. */
    public Progress(Logger log, String label, long totalSteps, Duration interval) {
        this.log = log;
        this.label = label;
        this.totalSteps = totalSteps;
        this.intervalNanos = interval.toNanos();
    }

    /** Records a finished step (1-based) and logs a line if the interval has passed or it is the last. */
    public void step(long step, int batchSamples, double loss, double scale, long skipped) {
        samples += batchSamples;
        long now = System.nanoTime();
        if (now - lastLog < intervalNanos && step != totalSteps) {
            return;
        }
        lastLog = now;
        double elapsed = (now - start) / 1e9;
        double rate = samples / Math.max(elapsed, 1e-9);
        double eta = step == 0 ? 0 : elapsed / step * (totalSteps - step);
        log.info(String.format(java.util.Locale.ROOT,
                "%s step %d/%d (%.0f%%) loss %.4f  %.0f samples/s  scale %s  skipped %d  ETA %s",
                label, step, totalSteps, 100.0 * step / totalSteps, loss, rate,
                scale == 1 ? "1" : String.format(java.util.Locale.ROOT, "%.0f", scale), skipped,
                formatSeconds(eta)));
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, t / 60 % 60)
                : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
