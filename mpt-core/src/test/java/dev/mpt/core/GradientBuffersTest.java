package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The walk's recycling of dropped gradients ({@link GradientBuffers}): later steps that take
 * recycled arrays compute the first step's bits, and nothing a user holds (forward outputs,
 * parameter gradients, the seed) is ever overwritten by a later step.
 */
class GradientBuffersTest {

    /** conv -> batchNorm -> relu -> maxPool -> weighted sum; activations of 32,768 floats (above MIN_FLOATS). */
    private static Tensor forward(Tensor x, Tensor w, Tensor b, Tensor gamma, Tensor beta, Tensor weights) {
        Tensor y = x.conv2d(w, b, Conv2dSpec.of(1, 1));
        return y.batchNorm(null, null, gamma, beta, true, 0.1, 1e-5).relu().maxPool2d(2, 2, 0).mul(weights).sum();
    }

    @Test
    void laterStepsOnRecycledArraysGiveTheFirstStepsBitsAndLeaveHeldTensorsAlone() {
        var rng = new SplittableRandom(5);
        Tensor x = Tensor.randn(rng, DType.FP32, 4, 3, 32, 32).requiresGrad(true);
        Tensor w = Tensor.randn(rng, DType.FP32, 8, 3, 3, 3).requiresGrad(true);
        Tensor b = Tensor.randn(rng, DType.FP32, 8).requiresGrad(true);
        Tensor gamma = Tensor.randn(rng, DType.FP32, 8).requiresGrad(true);
        Tensor beta = Tensor.randn(rng, DType.FP32, 8).requiresGrad(true);
        Tensor weights = Tensor.randn(rng, DType.FP32, 4, 8, 16, 16);
        Tensor[] leaves = {x, w, b, gamma, beta};

        Tensor conv1 = x.detach().conv2d(w.detach(), b.detach(), Conv2dSpec.of(1, 1)); // a user's forward output
        float[] conv1Values = conv1.toFloatArray();
        forward(x, w, b, gamma, beta, weights).backward();
        assertTrue(GradientBuffers.kept() > 0, "the walk recycled no gradient");
        Tensor[] first = new Tensor[leaves.length];
        float[][] firstValues = new float[leaves.length][];
        for (int i = 0; i < leaves.length; i++) {
            first[i] = leaves[i].grad();
            firstValues[i] = first[i].toFloatArray();
            leaves[i].zeroGrad();
        }
        for (int step = 2; step <= 3; step++) {
            forward(x, w, b, gamma, beta, weights).backward();
            for (int i = 0; i < leaves.length; i++) {
                assertArrayEquals(firstValues[i], leaves[i].grad().toFloatArray(), "step " + step + " leaf " + i);
                assertNotSame(first[i].floats, leaves[i].grad().floats, "step " + step + " reused a held gradient");
                leaves[i].zeroGrad();
            }
        }
        for (int i = 0; i < leaves.length; i++) {
            assertArrayEquals(firstValues[i], first[i].toFloatArray(), "held gradient of leaf " + i + " changed");
        }
        assertArrayEquals(conv1Values, conv1.toFloatArray(), "held forward output changed");
    }

    /**
     * batchNorm writes the input gradient over the incoming one only when the walk owns it: with
     * the caller's seed (not owned) and with the fresh gradient of a product by 1 (owned, same
     * values) the input gradient has the same bits, and the seed is left as it was.
     */
    @Test
    void batchNormOverwritesOnlyAnOwnedGradient() {
        var rng = new SplittableRandom(9);
        float[] xv = Tensor.randn(rng, DType.FP32, 8, 4, 24, 24).mul(2f).add(1f).toFloatArray();
        float[] sv = Tensor.randn(rng, DType.FP32, 8, 4, 24, 24).toFloatArray();
        Tensor gamma = Tensor.randn(rng, DType.FP32, 4);
        Tensor seed = Tensor.of(sv.clone(), 8, 4, 24, 24);

        Tensor x1 = Tensor.of(xv, 8, 4, 24, 24).requiresGrad(true);
        x1.batchNorm(null, null, gamma, null, true, 0.1, 1e-5).backward(seed);
        assertArrayEquals(sv, seed.toFloatArray(), "the seed was overwritten");

        Tensor x2 = Tensor.of(xv, 8, 4, 24, 24).requiresGrad(true);
        x2.batchNorm(null, null, gamma, null, true, 0.1, 1e-5).mul(1f).backward(seed);
        assertArrayEquals(x1.grad().toFloatArray(), x2.grad().toFloatArray());
        assertArrayEquals(sv, seed.toFloatArray(), "the seed was overwritten");
    }

    @Test
    void takeReturnsAKeptArrayOfExactlyTheLengthAndRefusesADoubleRecycle() {
        int n = GradientBuffers.MIN_FLOATS + 3;
        float[] a = new float[n];
        GradientBuffers.recycle(a);
        assertEquals(n + 1, GradientBuffers.take(n + 1).length);
        assertSame(a, GradientBuffers.take(n));
        assertNotSame(a, GradientBuffers.take(n), "an array was handed out twice");
        float[] c = new float[n];
        GradientBuffers.recycle(c);
        var e = assertThrows(IllegalStateException.class, () -> GradientBuffers.recycle(c));
        assertEquals("GradientBuffers: array recycled twice", e.getMessage());
        assertSame(c, GradientBuffers.take(n));
    }
}
