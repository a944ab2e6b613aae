package dev.mpt.nn;

import dev.mpt.core.Pool2dSpec;
import dev.mpt.core.Tensor;
import java.util.Objects;

/**
 * Average pooling of NCHW inputs: each window's sum in FP32 times the FP32 reciprocal of its
 * divisor, rounded once to the input's dtype; geometry from a {@link Pool2dSpec}, as PyTorch's
 * {@code nn.AvgPool2d}. The divisor is the window's size within the padded input when
 * {@code countIncludePad} (the default, {@code kernelH * kernelW} unless a ceil-mode window
 * overhangs), else the number of its pixels inside the input:
 *
 * <pre>{@code
 * new AvgPool2d(2);                                          // nn.AvgPool2d(2)
 * new AvgPool2d(Pool2dSpec.of(3, 2, 1).withCeilMode(true).withCountIncludePad(false));
 *                 // nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
 * }</pre>
 */
public final class AvgPool2d extends Module {

    private final Pool2dSpec spec;

    /** Windows of {@code kernel x kernel} with stride {@code kernel} and no padding. */
    public AvgPool2d(int kernel) {
        this(Pool2dSpec.of(kernel));
    }

    /**
     * Windows of {@code kernel x kernel}, {@code stride} >= 1, {@code padding} in {@code [0, kernel / 2]},
     * padding counted in the divisor {@code kernel^2}.
     */
    public AvgPool2d(int kernel, int stride, int padding) {
        this(Pool2dSpec.of(kernel, stride, padding));
    }

    /** Windows, strides, padding, ceil mode and {@code countIncludePad} from {@code spec}; dilation must be 1. */
    public AvgPool2d(Pool2dSpec spec) {
        this.spec = Objects.requireNonNull(spec, "AvgPool2d: spec");
        if (spec.dilationH() != 1 || spec.dilationW() != 1) {
            throw new IllegalArgumentException("AvgPool2d: dilation must be 1x1 (PyTorch's AvgPool2d has none), got "
                    + spec.dilationH() + "x" + spec.dilationW());
        }
    }

    /** The geometry. */
    public Pool2dSpec spec() {
        return spec;
    }

    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.input("AvgPool2d", x);
        LayerChecks.rank("AvgPool2d", x, 4);
        return x.avgPool2d(spec);
    }

    @Override
    public String toString() {
        return "AvgPool2d(kernel=" + spec.kernelH() + "x" + spec.kernelW() + ", stride=" + spec.strideH() + "x"
                + spec.strideW() + ", padding=" + spec.padH() + "x" + spec.padW() + ", ceilMode=" + spec.ceilMode()
                + ", countIncludePad=" + spec.countIncludePad() + ")";
    }
}
