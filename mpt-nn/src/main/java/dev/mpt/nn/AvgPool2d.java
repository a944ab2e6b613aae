package dev.mpt.nn;

import dev.mpt.core.Tensor;

/** Average pooling over square windows of NCHW inputs, padding counted as zeros in the divisor {@code kernel^2}; summed in FP32, rounded once to the input's dtype. */
public final class AvgPool2d extends Module {

    private final int kernel;
    private final int stride;
    private final int padding;

    /** Windows of {@code kernel x kernel} with stride {@code kernel} and no padding. */
    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    /** Windows of {@code kernel x kernel}, {@code stride} >= 1, {@code padding} in {@code [0, kernel / 2]}. */
    public AvgPool2d(int kernel, int stride, int padding) {
        this.kernel = LayerChecks.positive("AvgPool2d", "kernel", kernel);
        this.stride = LayerChecks.positive("AvgPool2d", "stride", stride);
        if (padding < 0 || padding > kernel / 2) {
            throw new IllegalArgumentException("AvgPool2d: padding must be in [0, kernel / 2 = " + kernel / 2
                    + "], got " + padding);
        }
        this.padding = padding;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("AvgPool2d", x);
        LayerChecks.rank("AvgPool2d", x, 4);
        return x.avgPool2d(kernel, stride, padding);
    }

    @Override
    public String toString() {
        return "AvgPool2d(kernel=" + kernel + ", stride=" + stride + ", padding=" + padding + ")";
    }
}
