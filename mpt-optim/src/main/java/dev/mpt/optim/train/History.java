package dev.mpt.optim.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The per-epoch record of one {@link Trainer#fit} call, in epoch order, and why it stopped.
 *
 * <p>{@link #writeCsv(Path)} writes one header line and one line per epoch, comma separated, with
 * these columns in this order ({@link EpochMetrics} defines each):
 * <pre>
 * epoch, train_loss, [val_loss], [val_accuracy], learning_rate, loss_scale, steps, skipped_steps,
 * seconds, samples_per_second
 * </pre>
 * {@code val_loss} is present when the fit had validation data, {@code val_accuracy} when that data
 * was a classification {@link dev.mpt.nn.data.Dataset} (as Keras's {@code CSVLogger} writes only
 * the metrics it has). Numbers are written by {@link Double#toString(double)} and
 * {@link Long#toString(long)}: locale-independent, and {@link Double#parseDouble} reads back the
 * exact value ({@code NaN} and {@code Infinity} included).
 */
public final class History {

    private final List<EpochMetrics> epochs;
    private final boolean validation;
    private final boolean classification;
    private final String stopReason;

    History(List<EpochMetrics> epochs, boolean validation, boolean classification, String stopReason) {
        this.epochs = List.copyOf(epochs);
        this.validation = validation;
        this.classification = classification;
        this.stopReason = stopReason;
    }

    /** The epochs that ran, in order (epoch numbers 1, 2, ...). */
    public List<EpochMetrics> epochs() {
        return epochs;
    }

    /** The number of epochs that ran. */
    public int size() {
        return epochs.size();
    }

    /**
     * The last epoch.
     *
     * @throws IllegalStateException if no epoch ran yet (a history seen at the start of a fit)
     */
    public EpochMetrics last() {
        if (epochs.isEmpty()) {
            throw new IllegalStateException("History.last: no epoch has finished yet");
        }
        return epochs.getLast();
    }

    /** Whether this history has values of {@code metric} (validation metrics need validation data). */
    public boolean has(Metric metric) {
        return switch (Objects.requireNonNull(metric, "History.has: metric is null")) {
            case TRAIN_LOSS -> true;
            case VAL_LOSS -> validation;
            case VAL_ACCURACY -> validation && classification;
        };
    }

    /** The values of {@code metric}, one per epoch. */
    public double[] values(Metric metric) {
        Objects.requireNonNull(metric, "History.values: metric is null");
        return epochs.stream().mapToDouble(e -> e.value(metric)).toArray();
    }

    /** Why the fit stopped before its last epoch (a callback's reason), or empty when it ran them all. */
    public Optional<String> stopReason() {
        return Optional.ofNullable(stopReason);
    }

    /** The CSV text {@link #writeCsv} writes: a header and one line per epoch, each ending in {@code \n}. */
    public String toCsv() {
        List<String> header = new ArrayList<>(List.of("epoch", Metric.TRAIN_LOSS.column()));
        if (has(Metric.VAL_LOSS)) {
            header.add(Metric.VAL_LOSS.column());
        }
        if (has(Metric.VAL_ACCURACY)) {
            header.add(Metric.VAL_ACCURACY.column());
        }
        header.addAll(List.of("learning_rate", "loss_scale", "steps", "skipped_steps", "seconds",
                "samples_per_second"));
        StringBuilder sb = new StringBuilder(String.join(",", header)).append('\n');
        for (EpochMetrics e : epochs) {
            sb.append(e.epoch()).append(',').append(e.trainLoss());
            if (has(Metric.VAL_LOSS)) {
                sb.append(',').append(e.valLoss());
            }
            if (has(Metric.VAL_ACCURACY)) {
                sb.append(',').append(e.valAccuracy());
            }
            sb.append(',').append(e.learningRate()).append(',').append(e.lossScale()).append(',').append(e.steps())
                    .append(',').append(e.skippedSteps()).append(',').append(e.seconds()).append(',')
                    .append(e.samplesPerSecond()).append('\n');
        }
        return sb.toString();
    }

    /** Writes {@link #toCsv()} to {@code file} (UTF-8), replacing it. */
    public void writeCsv(Path file) throws IOException {
        Objects.requireNonNull(file, "History.writeCsv: file is null");
        Files.writeString(file, toCsv(), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "History[epochs=" + epochs.size() + ", validation=" + validation + ", classification="
                + classification + (stopReason == null ? "" : ", stopped: " + stopReason) + "]";
    }
}
