package dev.mpt.nn;

import dev.mpt.core.Pool2dSpec;
import dev.mpt.core.Tensor;
import java.util.Objects;

/**
 * Max pooling of NCHW inputs (padding never wins), exact, in the input's dtype; geometry from a
 * {@link Pool2dSpec}, as PyTorch's {@code nn.MaxPool2d}:
 *
 * <pre>{@code
 * new MaxPool2d(2);                                          // nn.MaxPool2d(2)
 * new MaxPool2d(3, 2, 1);                                    // nn.MaxPool2d(3, 2, 1)
 * new MaxPool2d(Pool2dSpec.of(2, 3).withStride(2, 1).withCeilMode(true).withDilation(1, 2));
 *                          // nn.MaxPool2d((2, 3), (2, 1), dilation=(1, 2), ceil_mode=True)
 * }</pre>
 */
public final class MaxPool2d extends Module {

    private final Pool2dSpec spec;

    /** Windows of {@code kernel x kernel} with stride {@code kernel} and no padding. */
    public MaxPool2d(int kernel) {
        this(Pool2dSpec.of(kernel));
    }

    /** Windows of {@code kernel x kernel}, {@code stride} >= 1, {@code padding} in {@code [0, kernel / 2]}. */
    public MaxPool2d(int kernel, int stride, int padding) {
        this(Pool2dSpec.of(kernel, stride, padding));
    }

    /** Windows, strides, padding, dilation and ceil mode from {@code spec} ({@code countIncludePad} is ignored). */
    public MaxPool2d(Pool2dSpec spec) {
        this.spec = Objects.requireNonNull(spec, "MaxPool2d: spec");
    }

    /** The geometry. */
    public Pool2dSpec spec() {
        return spec;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("MaxPool2d", x);
        LayerChecks.rank("MaxPool2d", x, 4);
        return x.maxPool2d(spec);
    }

    @Override
    public String toString() {
        return "MaxPool2d(kernel=" + spec.kernelH() + "x" + spec.kernelW() + ", stride=" + spec.strideH() + "x"
                + spec.strideW() + ", padding=" + spec.padH() + "x" + spec.padW() + ", dilation=" + spec.dilationH()
                + "x" + spec.dilationW() + ", ceilMode=" + spec.ceilMode() + ")";
    }
}
