package dev.mpt.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
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

    /**
     * Training-loss curves, one per run, each smoothed by a running mean over
     * {@code max(1, steps / 100)} steps so runs stay distinguishable.
     */
    public static void lossCurves(Path png, String title, Map<String, double[][]> curves) {
        Map<String, double[][]> smooth = new java.util.LinkedHashMap<>();
        int window = 1;
        for (double[][] c : curves.values()) {
            window = Math.max(window, c[0].length / 100);
        }
        for (var e : curves.entrySet()) {
            smooth.put(e.getKey(), runningMean(e.getValue(), window));
        }
        lines(png, title + (window > 1 ? " (mean of " + window + " steps)" : ""), "step", "loss", smooth);
    }

    /** Means of consecutive windows of {@code window} points (the last may be shorter); non-finite points dropped. */
    static double[][] runningMean(double[][] xy, int window) {
        int n = xy[0].length;
        int m = (n + window - 1) / window;
        double[] x = new double[m];
        double[] y = new double[m];
        int k = 0;
        for (int start = 0; start < n; start += window) {
            double sx = 0;
            double sy = 0;
            int count = 0;
            for (int i = start; i < Math.min(n, start + window); i++) {
                if (Double.isFinite(xy[1][i])) {
                    sx += xy[0][i];
                    sy += xy[1][i];
                    count++;
                }
            }
            if (count > 0) {
                x[k] = sx / count;
                y[k] = sy / count;
                k++;
            }
        }
        return new double[][] {java.util.Arrays.copyOf(x, k), java.util.Arrays.copyOf(y, k)};
    }

    /**
     * A histogram of gradient magnitudes by power of two (percent of the nonzero values in each
     * {@code [2^e, 2^(e+1))}), with FP16's range marked: the smallest subnormal {@code 2^-24},
     * the smallest normal {@code 2^-14} and the largest finite value {@code 65504 < 2^16}.
     */
    public static void exponentHistogram(Path png, String title, dev.mpt.optim.amp.GradientStats stats) {
        int lo = dev.mpt.optim.amp.GradientStats.MIN_EXPONENT;
        int hi = dev.mpt.optim.amp.GradientStats.MAX_EXPONENT;
        long nonzero = stats.count() - stats.zeroCount() - stats.nanCount();
        double[] x = new double[hi - lo + 1];
        double[] y = new double[x.length];
        double top = 0;
        for (int e = lo; e <= hi; e++) {
            x[e - lo] = e;
            y[e - lo] = nonzero == 0 ? 0 : 100.0 * stats.countAtExponent(e) / nonzero;
            top = Math.max(top, y[e - lo]);
        }
        XYChart chart = new XYChartBuilder().width(1000).height(560).title(title)
                .xAxisTitle("log2 |gradient|").yAxisTitle("% of nonzero values").build();
        chart.getStyler().setMarkerSize(4);
        chart.addSeries("gradients", x, y);
        double h = Math.max(top, 1) * 1.05;
        chart.addSeries("FP16 min subnormal 2^-24", new double[] {-24, -24}, new double[] {0, h}).setMarker(SeriesMarkers.NONE);
        chart.addSeries("FP16 min normal 2^-14", new double[] {-14, -14}, new double[] {0, h}).setMarker(SeriesMarkers.NONE);
        chart.addSeries("FP16 max 65504", new double[] {16, 16}, new double[] {0, h}).setMarker(SeriesMarkers.NONE);
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
