package dev.mpt.core;

/**
 * Geometry of a 2-D convolution over NCHW tensors: strides, zero padding, dilation and groups
 * (as in PyTorch's {@code Conv2d}). Output size per spatial dim:
 * {@code floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1}; the kernel must fit the padded input.
 *
 * <pre>{@code
 * // nn.Conv2d(c, o, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)) in PyTorch:
 * Conv2dSpec.DEFAULT.withStride(2, 1).withPadding(1, 2).withDilation(1, 2)
 * }</pre>
 *
 * @param strideH vertical stride, at least 1
 * @param strideW horizontal stride, at least 1
 * @param padH zero rows added above and below, at least 0
 * @param padW zero columns added left and right, at least 0
 * @param dilationH vertical spacing of kernel taps, at least 1
 * @param dilationW horizontal spacing of kernel taps, at least 1
 * @param groups input and output channels are split into this many independent groups, at least 1
 */
public record Conv2dSpec(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups) {

    /** Stride 1, no padding, no dilation, one group. */
    public static final Conv2dSpec DEFAULT = new Conv2dSpec(1, 1, 0, 0, 1, 1, 1);

    /** Validates the arguments. */
    public Conv2dSpec {
        if (strideH < 1 || strideW < 1 || padH < 0 || padW < 0 || dilationH < 1 || dilationW < 1 || groups < 1) {
            throw new IllegalArgumentException("Conv2dSpec: need stride >= 1, padding >= 0, dilation >= 1, groups >= 1,"
                    + " got stride=" + strideH + "x" + strideW + ", padding=" + padH + "x" + padW + ", dilation="
                    + dilationH + "x" + dilationW + ", groups=" + groups);
        }
    }

    /** Square stride and padding, no dilation, one group. */
    public static Conv2dSpec of(int stride, int padding) {
        return new Conv2dSpec(stride, stride, padding, padding, 1, 1, 1);
    }

    /** This spec with strides {@code sh x sw} (PyTorch's {@code stride=(sh, sw)}). */
    public Conv2dSpec withStride(int sh, int sw) {
        return new Conv2dSpec(sh, sw, padH, padW, dilationH, dilationW, groups);
    }

    /** This spec with zero padding {@code ph x pw} (PyTorch's {@code padding=(ph, pw)}). */
    public Conv2dSpec withPadding(int ph, int pw) {
        return new Conv2dSpec(strideH, strideW, ph, pw, dilationH, dilationW, groups);
    }

    /** This spec with dilation {@code dh x dw} (PyTorch's {@code dilation=(dh, dw)}). */
    public Conv2dSpec withDilation(int dh, int dw) {
        return new Conv2dSpec(strideH, strideW, padH, padW, dh, dw, groups);
    }

    /** This spec with square dilation {@code d}. */
    public Conv2dSpec withDilation(int d) {
        return new Conv2dSpec(strideH, strideW, padH, padW, d, d, groups);
    }

    /** This spec with {@code g} groups. */
    public Conv2dSpec withGroups(int g) {
        return new Conv2dSpec(strideH, strideW, padH, padW, dilationH, dilationW, g);
    }

    /**
     * Output height of a convolution with kernel height {@code kh} over input height {@code h};
     * rounded down (not toward zero), so a kernel taller than the padded input gives less than 1
     * whatever the stride.
     */
    int outH(int h, int kh) {
        return Math.floorDiv(h + 2 * padH - dilationH * (kh - 1) - 1, strideH) + 1;
    }

    /** Output width of a convolution with kernel width {@code kw} over input width {@code w}; as {@link #outH}. */
    int outW(int w, int kw) {
        return Math.floorDiv(w + 2 * padW - dilationW * (kw - 1) - 1, strideW) + 1;
    }
}
