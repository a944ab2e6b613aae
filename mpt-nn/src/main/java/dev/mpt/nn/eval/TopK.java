package dev.mpt.nn.eval;

import java.util.Objects;

/**
 * Top-k accuracy: a sample counts as a hit when its label's score is among the {@code k} largest,
 * that is, when fewer than {@code k} classes score strictly higher than the label (so ties count in
 * the label's favour, and {@code k = 1} equals accuracy except on ties).
 */
public final class TopK {

    private TopK() {
    }

    /**
     * The fraction of rows of {@code scores} whose label is a top-{@code k} hit.
     *
     * @param scores one row of class scores (logits or probabilities) per sample, all of one length
     * @param labels one class index in {@code [0, classes)} per row
     * @param k      in {@code [1, classes]}
     * @throws IllegalArgumentException on differing counts or row lengths, a label out of range, a
     *                                  NaN score, or {@code k} out of range
     */
    public static double accuracy(float[][] scores, int[] labels, int k) {
        Objects.requireNonNull(scores, "TopK.accuracy: scores");
        Objects.requireNonNull(labels, "TopK.accuracy: labels");
        if (scores.length != labels.length || scores.length == 0) {
            throw new IllegalArgumentException("TopK.accuracy: " + scores.length + " score rows and " + labels.length
                    + " labels; need the same number, at least one");
        }
        int classes = scores[0].length;
        if (k < 1 || k > classes) {
            throw new IllegalArgumentException("TopK.accuracy: k must be in [1, " + classes + "], got " + k);
        }
        long hits = 0;
        for (int i = 0; i < scores.length; i++) {
            float[] row = scores[i];
            if (row.length != classes) {
                throw new IllegalArgumentException("TopK.accuracy: row " + i + " has " + row.length
                        + " scores, row 0 has " + classes);
            }
            int label = labels[i];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("TopK.accuracy: label " + label + " of sample " + i
                        + " is outside [0, " + classes + ")");
            }
            int higher = 0;
            for (float v : row) {
                if (Float.isNaN(v)) {
                    throw new IllegalArgumentException("TopK.accuracy: row " + i + " holds NaN");
                }
                higher += v > row[label] ? 1 : 0;
            }
            hits += higher < k ? 1 : 0;
        }
        return (double) hits / scores.length;
    }
}
