package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GradientProbeTest {

    /** For L = sum(probe(x) * w) the activation gradient at the probe is w exactly, in x's dtype. */
    @Test
    void armedProbeCapturesTheActivationGradientWithoutChangingValues() {
        var rng = new SplittableRandom(3);
        for (DType dt : DType.values()) {
            Tensor x = Tensor.randn(rng, DType.FP32, 4, 5).to(dt).requiresGrad(true);
            Tensor w = Tensor.randn(rng, DType.FP32, 4, 5).to(dt);
            var probe = new GradientProbe();
            probe.arm(true);
            Tensor y = probe.forward(x);
            assertArrayEquals(x.toFloatArray(), y.toFloatArray(), dt + ": forward changed values");
            y.mul(w).sum().backward();
            assertArrayEquals(w.toFloatArray(), probe.gradient().toFloatArray(), dt + ": captured gradient");
            assertArrayEquals(w.toFloatArray(), x.grad().toFloatArray(), dt + ": gradient reaching x");
            assertSame(dt, probe.gradient().dtype());
        }
    }

    @Test
    void disarmedProbeIsTheIdentityAndCapturesNothing() {
        Tensor x = Tensor.ones(2, 3).requiresGrad(true);
        var probe = new GradientProbe();
        assertSame(x, probe.forward(x));
        assertNull(probe.gradient());
    }
}
