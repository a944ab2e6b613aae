package dev.mpt.nn.eval;

import java.util.Locale;
import java.util.Objects;

/**
 * Counts of (true class, predicted class) pairs, and the per-class metrics derived from them:
 *
 * <pre>
 * precision(c) = TP / (TP + FP)   the share of predictions of c that are right
 * recall(c)    = TP / (TP + FN)   the share of samples of c that are found
 * f1(c)        = 2 precision recall / (precision + recall)
 * </pre>
 *
 * computed in double from exact long counts. A ratio whose denominator is zero (a class never
 * predicted, or absent) is 0, as scikit-learn's {@code zero_division=0}.
 */
public final class ConfusionMatrix {

    private final long[][] counts;

    private ConfusionMatrix(long[][] counts) {
        this.counts = counts;
    }

    /**
     * Tallies {@code labels[i]} against {@code predicted[i]}.
     *
     * @throws IllegalArgumentException when the arrays differ in length or a class is outside
     *                                  {@code [0, numClasses)}
     */
    public static ConfusionMatrix of(int[] labels, int[] predicted, int numClasses) {
        Objects.requireNonNull(labels, "ConfusionMatrix.of: labels");
        Objects.requireNonNull(predicted, "ConfusionMatrix.of: predicted");
        if (numClasses < 1) {
            throw new IllegalArgumentException("ConfusionMatrix.of: numClasses must be >= 1, got " + numClasses);
        }
        if (labels.length != predicted.length) {
            throw new IllegalArgumentException("ConfusionMatrix.of: " + labels.length + " labels but "
                    + predicted.length + " predictions");
        }
        long[][] counts = new long[numClasses][numClasses];
        for (int i = 0; i < labels.length; i++) {
            check("label", labels[i], i, numClasses);
            check("prediction", predicted[i], i, numClasses);
            counts[labels[i]][predicted[i]]++;
        }
        return new ConfusionMatrix(counts);
    }

    private static void check(String what, int c, int i, int n) {
        if (c < 0 || c >= n) {
            throw new IllegalArgumentException("ConfusionMatrix.of: " + what + " " + c + " of sample " + i
                    + " is outside [0, " + n + ")");
        }
    }

    /** Number of classes. */
    public int numClasses() {
        return counts.length;
    }

    /** Samples of class {@code actual} predicted as {@code predicted}. */
    public long count(int actual, int predicted) {
        return counts[Objects.checkIndex(actual, counts.length)][Objects.checkIndex(predicted, counts.length)];
    }

    /** Samples whose true class is {@code c}. */
    public long support(int c) {
        long n = 0;
        for (long v : counts[Objects.checkIndex(c, counts.length)]) {
            n += v;
        }
        return n;
    }

    private long predictedAs(int c) {
        long n = 0;
        for (long[] row : counts) {
            n += row[c];
        }
        return n;
    }

    /** All samples. */
    public long total() {
        long n = 0;
        for (int c = 0; c < counts.length; c++) {
            n += support(c);
        }
        return n;
    }

    /** The fraction of samples on the diagonal (0 when there are none). */
    public double accuracy() {
        long diag = 0;
        for (int c = 0; c < counts.length; c++) {
            diag += counts[c][c];
        }
        return ratio(diag, total());
    }

    /** {@code TP / (TP + FP)} of class {@code c}. */
    public double precision(int c) {
        return ratio(counts[Objects.checkIndex(c, counts.length)][c], predictedAs(c));
    }

    /** {@code TP / (TP + FN)} of class {@code c}. */
    public double recall(int c) {
        return ratio(counts[Objects.checkIndex(c, counts.length)][c], support(c));
    }

    /** The harmonic mean of {@link #precision} and {@link #recall} of class {@code c}. */
    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** The unweighted mean of the per-class F1 scores. */
    public double macroF1() {
        double s = 0;
        for (int c = 0; c < counts.length; c++) {
            s += f1(c);
        }
        return s / counts.length;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }

    /** The per-class report (precision, recall, F1, support), then accuracy and macro F1. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%5s %9s %9s %9s %9s%n", "class",
                "precision", "recall", "f1", "support"));
        for (int c = 0; c < counts.length; c++) {
            sb.append(String.format(Locale.ROOT, "%5d %9.4f %9.4f %9.4f %9d%n", c, precision(c), recall(c), f1(c),
                    support(c)));
        }
        return sb.append(String.format(Locale.ROOT, "accuracy %.4f, macro F1 %.4f", accuracy(), macroF1())).toString();
    }
}
