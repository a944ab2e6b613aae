package dev.mpt.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A markdown table: printed to the console and written next to a run's CSV files. */
public final class ComparisonTable {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    /** A table with the given column names. */
    public ComparisonTable(List<String> header) {
        this.header = List.copyOf(header);
    }

    /** The table of {@code --compare}: one row per run. */
    public static ComparisonTable of(List<RunResult> runs) {
        var t = new ComparisonTable(List.of("run", runs.getFirst().metricName(), "s/epoch", "weights",
                "FP32 masters", "activations (1 batch)", "steps", "skipped", "final scale"));
        for (RunResult r : runs) {
            t.row(r.label(), fixed(r.metric(), 4), fixed(r.secondsPerEpoch(), 1), Memory.format(r.weightBytes()),
                    r.masterBytes() == 0 ? "-" : Memory.format(r.masterBytes()), Memory.format(r.activationBytes()),
                    Long.toString(r.steps()), Long.toString(r.skippedSteps()), scale(r.finalScale()));
        }
        return t;
    }

    /** Adds a row; it must have one cell per column. */
    public ComparisonTable row(String... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, the table has " + header.size()
                    + " columns");
        }
        rows.add(List.of(cells));
        return this;
    }

    /** The rows so far (each a list of cells). */
    public List<List<String>> rows() {
        return List.copyOf(rows);
    }

    /** The table as aligned markdown. */
    public String markdown() {
        int[] w = new int[header.size()];
        for (int c = 0; c < w.length; c++) {
            w[c] = Math.max(3, header.get(c).length());
            for (List<String> r : rows) {
                w[c] = Math.max(w[c], r.get(c).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, header, w);
        List<String> rule = new ArrayList<>();
        for (int width : w) {
            rule.add("-".repeat(width));
        }
        line(sb, rule, w);
        rows.forEach(r -> line(sb, r, w));
        return sb.toString();
    }

    private static void line(StringBuilder sb, List<String> cells, int[] w) {
        sb.append('|');
        for (int c = 0; c < w.length; c++) {
            sb.append(' ').append(cells.get(c)).append(" ".repeat(w[c] - cells.get(c).length())).append(" |");
        }
        sb.append('\n');
    }

    /** Writes {@code title} as a heading and the table to {@code file}. */
    public void write(Path file, String title) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, "# " + title + "\n\n" + markdown());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write table " + file, e);
        }
    }

    static String fixed(double v, int digits) {
        return String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    static String scale(double s) {
        if (s == Math.rint(s) && s >= 1) {
            int e = Math.getExponent(s);
            return s == Math.scalb(1.0, e) ? "2^" + e : String.format(Locale.ROOT, "%.0f", s);
        }
        return String.format(Locale.ROOT, "%.3g", s);
    }

    /** A percentage with two decimals, e.g. {@code 12.34%}. */
    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }
}
