package dev.mpt.core.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GradCheckTest {

    private final SplittableRandom rng = new SplittableRandom(3);

    @Test
    void acceptsCorrectGradients() {
        GradCheck.Report r = GradCheck.check(in -> in[0].exp().mul(in[1]), Tensor.randn(rng, DType.FP32, 3, 2),
                Tensor.randn(rng, DType.FP32, 2));
        assertTrue(r.passed(), r::worst);
        assertTrue(r.checked() == 8);
    }

    @Test
    void detectsWrongGradient() {
        // x * detach(x): autograd sees d/dx = x, the function's true derivative is 2x
        Tensor x = Tensor.of(new float[] {0.5f, -1.0f, 2.0f}, 3);
        GradCheck.Report r = GradCheck.check(in -> in[0].mul(in[0].detach()), x);
        assertFalse(r.passed());
        AssertionError e = assertThrows(AssertionError.class,
                () -> GradCheck.assertGradients(in -> in[0].mul(in[0].detach()), x));
        assertTrue(e.getMessage().contains("autograd"), e.getMessage());
    }

    @Test
    void detectsSmallRelativeError() {
        // a gradient off by 1% is far outside the derived tolerance for a smooth function
        Tensor x = Tensor.of(new float[] {0.3f, -0.7f, 1.1f}, 3);
        GradCheck.Report r = GradCheck.check(in -> in[0].mul(in[0].detach().mul(0.01f)).add(in[0].detach().exp()
                .sub(in[0].detach().exp()).add(in[0])), x);
        assertFalse(r.passed(), "a gradient missing 2% x should fail");
    }

    @Test
    void leavesInputsUnchanged() {
        Tensor x = Tensor.of(new float[] {0.25f, 4f}, 2);
        GradCheck.check(in -> in[0].sqrt(), x);
        assertTrue(x.get(0) == 0.25f && x.get(1) == 4f && x.grad() == null);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class,
                () -> GradCheck.check(in -> in[0], Tensor.zeros(DType.FP16, 2)));
        assertThrows(IllegalArgumentException.class, () -> GradCheck.check(in -> in[0]));
        assertThrows(NullPointerException.class, () -> GradCheck.check(null, Tensor.zeros(2)));
    }
}
