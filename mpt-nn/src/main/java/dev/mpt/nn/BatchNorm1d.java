package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** {@link BatchNorm} over inputs {@code [N, C]} or {@code [N, C, L]}. */
public final class BatchNorm1d extends BatchNorm {

    /** With eps {@value #DEFAULT_EPS} and momentum {@value #DEFAULT_MOMENTUM}. */
    public BatchNorm1d(int channels) {
        this(channels, DEFAULT_EPS, DEFAULT_MOMENTUM);
    }

    /** With the given eps (> 0) and momentum (in [0, 1]). */
    public BatchNorm1d(int channels, double eps, double momentum) {
        super("BatchNorm1d", channels, eps, momentum);
    }

    @Override
    void checkShape(Tensor x) {
        LayerChecks.rank("BatchNorm1d", x, 2, 3);
        LayerChecks.size("BatchNorm1d", x, 1, channels(), "channels");
    }
}
