package dev.mpt.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG charts of a run (drawn with XChart). */
public final class Charts {

    private Charts() {
    }

    /** A line chart with one series per entry of {@code series} (x values, y values). */
    public static void lines(Path png, String title, String xLabel, String yLabel,
                             Map<String, double[][]> series) {
        XYChart chart = new XYChartBuilder().width(900).height(560).title(title)
                .xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setMarkerSize(0);
        for (var e : series.entrySet()) {
            double[][] xy = e.getValue();
            if (xy[0].length > 0) {
                chart.addSeries(e.getKey(), xy[0], xy[1]).setMarker(SeriesMarkers.NONE);
            }
        }
        save(png, chart);
    }

    /** A bar chart of counts per category, one series per entry (all series share the categories). */
    public static void bars(Path png, String title, String xLabel, String yLabel,
                            List<String> categories, Map<String, List<? extends Number>> series) {
        CategoryChart chart = new CategoryChartBuilder().width(1100).height(560).title(title)
                .xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setOverlapped(true);
        chart.getStyler().setXAxisLabelRotation(90);
        for (var e : series.entrySet()) {
            chart.addSeries(e.getKey(), categories, e.getValue());
        }
        save(png, chart);
    }

    private static void save(Path png, org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) {
        try {
            Files.createDirectories(png.toAbsolutePath().getParent());
            BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + png, e);
        }
    }
}
