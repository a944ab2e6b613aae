package dev.mpt.core;

/**
 * Geometry of 2-D max or average pooling over NCHW tensors, as PyTorch's {@code MaxPool2d} and
 * {@code AvgPool2d}: a {@code kernelH x kernelW} window moved by the strides over the input padded
 * with {@code padH} rows above and below and {@code padW} columns left and right. Output size per
 * spatial dim (PyTorch's {@code pooling_output_shape}):
 *
 * <pre>
 *   out = floor((in + 2 pad - dilation (k - 1) - 1 + (ceilMode ? stride - 1 : 0)) / stride) + 1
 *   if ceilMode and (out - 1) stride >= in + pad: out -= 1   (the last window must start inside
 *                                                            the input or the left padding)
 * </pre>
 *
 * <pre>{@code
 * Pool2dSpec.of(3, 2, 1)                                  // nn.MaxPool2d(3, 2, 1)
 * Pool2dSpec.of(2, 3).withStride(2, 1).withCeilMode(true) // nn.MaxPool2d((2, 3), (2, 1), ceil_mode=True)
 * Pool2dSpec.of(3).withPadding(1, 1).withCountIncludePad(false)
 *                                                         // nn.AvgPool2d(3, padding=1, count_include_pad=False)
 * }</pre>
 *
 * @param kernelH         window height, at least 1
 * @param kernelW         window width, at least 1
 * @param strideH         vertical stride, at least 1
 * @param strideW         horizontal stride, at least 1
 * @param padH            padding rows above and below, in {@code [0, kernelH / 2]} (PyTorch's limit)
 * @param padW            padding columns left and right, in {@code [0, kernelW / 2]}
 * @param dilationH       vertical spacing of window taps, at least 1 (max pooling only)
 * @param dilationW       horizontal spacing of window taps, at least 1 (max pooling only)
 * @param ceilMode        round the output size up instead of down (PyTorch's {@code ceil_mode})
 * @param countIncludePad average pooling divides by the window's size within the padded input
 *                        instead of by its pixels inside the input (PyTorch's
 *                        {@code count_include_pad}); max pooling ignores it
 */
public record Pool2dSpec(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH,
                         int dilationW, boolean ceilMode, boolean countIncludePad) {

    /** Validates the arguments; messages name the offending values. */
    public Pool2dSpec {
        if (kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException("Pool2dSpec: kernel must be at least 1x1, got " + kernelH + "x"
                    + kernelW);
        }
        if (strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("Pool2dSpec: stride must be at least 1, got " + strideH + "x" + strideW);
        }
        if (dilationH < 1 || dilationW < 1) {
            throw new IllegalArgumentException("Pool2dSpec: dilation must be at least 1, got " + dilationH + "x"
                    + dilationW);
        }
        if (padH < 0 || padW < 0) {
            throw new IllegalArgumentException("Pool2dSpec: padding must be >= 0, got " + padH + "x" + padW);
        }
        if (padH > kernelH / 2 || padW > kernelW / 2) {
            throw new IllegalArgumentException("Pool2dSpec: padding " + padH + "x" + padW
                    + " exceeds half the kernel " + kernelH + "x" + kernelW + " (at most " + kernelH / 2 + "x"
                    + kernelW / 2 + ", as in PyTorch)");
        }
    }

    /** A {@code kernel x kernel} window with stride {@code kernel}, no padding (PyTorch's defaults). */
    public static Pool2dSpec of(int kernel) {
        return of(kernel, kernel);
    }

    /** A {@code kernelH x kernelW} window with strides equal to the kernel, no padding. */
    public static Pool2dSpec of(int kernelH, int kernelW) {
        return new Pool2dSpec(kernelH, kernelW, kernelH, kernelW, 0, 0, 1, 1, false, true);
    }

    /** A square window with square {@code stride} and {@code padding}, floor mode. */
    public static Pool2dSpec of(int kernel, int stride, int padding) {
        return new Pool2dSpec(kernel, kernel, stride, stride, padding, padding, 1, 1, false, true);
    }

    /** This spec with strides {@code sh x sw}. */
    public Pool2dSpec withStride(int sh, int sw) {
        return new Pool2dSpec(kernelH, kernelW, sh, sw, padH, padW, dilationH, dilationW, ceilMode, countIncludePad);
    }

    /** This spec with padding {@code ph x pw}. */
    public Pool2dSpec withPadding(int ph, int pw) {
        return new Pool2dSpec(kernelH, kernelW, strideH, strideW, ph, pw, dilationH, dilationW, ceilMode,
                countIncludePad);
    }

    /** This spec with dilation {@code dh x dw} (max pooling only). */
    public Pool2dSpec withDilation(int dh, int dw) {
        return new Pool2dSpec(kernelH, kernelW, strideH, strideW, padH, padW, dh, dw, ceilMode, countIncludePad);
    }

    /** This spec with PyTorch's {@code ceil_mode} set to {@code ceil}. */
    public Pool2dSpec withCeilMode(boolean ceil) {
        return new Pool2dSpec(kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, ceil,
                countIncludePad);
    }

    /** This spec with PyTorch's {@code count_include_pad} set to {@code include}. */
    public Pool2dSpec withCountIncludePad(boolean include) {
        return new Pool2dSpec(kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode,
                include);
    }

    /** Output height over input height {@code h} (may be below 1: the caller rejects it). */
    int outH(int h) {
        return outSize(h, kernelH, strideH, padH, dilationH, ceilMode);
    }

    /** Output width over input width {@code w} (may be below 1: the caller rejects it). */
    int outW(int w) {
        return outSize(w, kernelW, strideW, padW, dilationW, ceilMode);
    }

    private static int outSize(int in, int k, int stride, int pad, int dilation, boolean ceil) {
        int span = in + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0);
        int out = Math.floorDiv(span, stride) + 1;
        if (ceil && out > 0 && (long) (out - 1) * stride >= in + pad) {
            out--;
        }
        return out;
    }

    @Override
    public String toString() {
        return "Pool2dSpec[kernel=" + kernelH + "x" + kernelW + ", stride=" + strideH + "x" + strideW + ", padding="
                + padH + "x" + padW + ", dilation=" + dilationH + "x" + dilationW + ", ceilMode=" + ceilMode
                + ", countIncludePad=" + countIncludePad + "]";
    }
}
