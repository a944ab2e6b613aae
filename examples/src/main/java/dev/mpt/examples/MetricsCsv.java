package dev.mpt.examples;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Appends rows of metrics to a CSV file, flushing each row so a crashed run keeps its history. */
public final class MetricsCsv implements AutoCloseable {

    private final BufferedWriter writer;
    private final int columns;

    /** Creates (or replaces) {@code file} with the given header. */
    public MetricsCsv(Path file, List<String> header) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            writer = Files.newBufferedWriter(file);
            writer.write(String.join(",", header));
            writer.newLine();
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics to " + file, e);
        }
        columns = header.size();
    }

    /** Writes one row; numbers are written with '.' as decimal separator. */
    public void row(Object... values) {
        if (values.length != columns) {
            throw new IllegalArgumentException("row has " + values.length + " values, header has " + columns);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            Object v = values[i];
            sb.append(v instanceof Double || v instanceof Float
                    ? String.format(Locale.ROOT, "%.6g", ((Number) v).doubleValue()) : String.valueOf(v));
        }
        try {
            writer.write(sb.toString());
            writer.newLine();
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics row", e);
        }
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close metrics file", e);
        }
    }
}
