package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The branch-free {@link Unary#RELU} gradient against its plain twin {@code x > 0 ? g : +0}, bit
 * for bit: every x among the signed zeros, subnormals, the largest finite values, infinities and
 * NaNs (quiet, signalling, either sign), plus random bit patterns, paired with gradients that
 * include -0, infinities and NaN.
 */
class ReluBackwardTest {

    @Test
    void branchFreeMaskEqualsTheTernary() {
        int[] special = {0, 0x80000000, 1, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x3f800000, 0xbf800000,
            0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7f800001, 0x7fc00000, 0xffc00000, 0x7fffffff, 0xffffffff};
        float[] grads = {1.5f, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -3e-45f};
        SplittableRandom rng = new SplittableRandom(3);
        int n = special.length * grads.length + 10_000;
        float[] x = new float[n];
        float[] g = new float[n];
        int i = 0;
        for (int bits : special) {
            for (float gv : grads) {
                x[i] = Float.intBitsToFloat(bits);
                g[i++] = gv;
            }
        }
        for (; i < n; i++) {
            x[i] = Float.intBitsToFloat(rng.nextInt());
            g[i] = Float.intBitsToFloat(rng.nextInt());
        }
        float[] gx = new float[n];
        Unary.RELU.backward(x, g, gx, 0, g.length, 0f, 0f);
        for (int k = 0; k < n; k++) {
            float want = x[k] > 0 ? g[k] : 0f;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(gx[k]),
                    "x bits " + Integer.toHexString(Float.floatToRawIntBits(x[k])) + ", g " + g[k]);
        }
    }
}
