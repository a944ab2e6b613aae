package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** {@link BatchNorm} over inputs {@code [N, C, H, W]}. */
public final class BatchNorm2d extends BatchNorm {

    /** With eps {@value #DEFAULT_EPS} and momentum {@value #DEFAULT_MOMENTUM}. */
    public BatchNorm2d(int channels) {
        this(channels, DEFAULT_EPS, DEFAULT_MOMENTUM);
    }

    /** With the given eps (> 0) and momentum (in [0, 1]). */
    public BatchNorm2d(int channels, double eps, double momentum) {
        super("BatchNorm2d", channels, eps, momentum);
    }

    @Override
    void checkShape(Tensor x) {
        LayerChecks.rank("BatchNorm2d", x, 4);
        LayerChecks.size("BatchNorm2d", x, 1, channels(), "channels");
    }
}
