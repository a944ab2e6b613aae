package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** Max pooling over square windows of NCHW inputs (padding never wins), in the input's dtype. */
public final class MaxPool2d extends Module {

    private final int kernel;
    private final int stride;
    private final int padding;

    /** Windows of {@code kernel x kernel} with stride {@code kernel} and no padding. */
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    /** Windows of {@code kernel x kernel}, {@code stride} >= 1, {@code padding} in {@code [0, kernel / 2]}. */
    public MaxPool2d(int kernel, int stride, int padding) {
        this.kernel = LayerChecks.positive("MaxPool2d", "kernel", kernel);
        this.stride = LayerChecks.positive("MaxPool2d", "stride", stride);
        if (padding < 0 || padding > kernel / 2) {
            throw new IllegalArgumentException("MaxPool2d: padding must be in [0, kernel / 2 = " + kernel / 2
                    + "], got " + padding);
        }
        this.padding = padding;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("MaxPool2d", x);
        LayerChecks.rank("MaxPool2d", x, 4);
        return x.maxPool2d(kernel, stride, padding);
    }

    @Override
    public String toString() {
        return "MaxPool2d(kernel=" + kernel + ", stride=" + stride + ", padding=" + padding + ")";
    }
}
