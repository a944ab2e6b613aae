package dev.mpt.core;

import static dev.mpt.core.number.DType.FP32;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Every differentiable op's backward against central finite differences (FP32 inputs). */
class GradientTest {

    private final SplittableRandom rng = new SplittableRandom(7);

    private Tensor randn(int... shape) {
        return Tensor.randn(rng, FP32, shape);
    }

    /** Uniform in [lo, hi). */
    private Tensor uniform(float lo, float hi, int... shape) {
        return Tensor.rand(rng, FP32, shape).mul(hi - lo).add(lo);
    }

    /** Normal values pushed at least {@code gap} away from 0 (for kinks at 0). */
    private Tensor awayFromZero(float gap, int... shape) {
        Tensor x = randn(shape);
        float[] v = x.floatData();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] >= 0 ? v[i] + gap : v[i] - gap;
        }
        return x;
    }

    private static void check(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        GradCheck.Report r = GradCheck.check(fn, inputs);
        assertTrue(r.passed(), () -> "worst ratio " + r.worstRatio() + ": " + r.worst());
        assertTrue(r.checked() > 0);
    }

    @Test
    void binaryOpsWithBroadcasting() {
        check(in -> in[0].add(in[1]), randn(3, 4), randn(4));
        check(in -> in[0].sub(in[1]), randn(3, 1), randn(1, 4));
        check(in -> in[0].mul(in[1]), randn(2, 3, 4), randn(3, 1));
        check(in -> in[0].div(in[1]), randn(3, 4), uniform(0.5f, 2f, 3, 4));
        check(in -> in[0].div(in[1]), randn(3, 4), uniform(-2f, -0.5f, 4));
        check(in -> in[0].maximum(in[1]), awayFromZero(0.1f, 3, 4), Tensor.zeros(3, 4));
        check(in -> in[0].minimum(in[1]), awayFromZero(0.1f, 3, 4), Tensor.zeros(4));
    }

    @Test
    void scalarOps() {
        check(in -> in[0].add(1.5f), randn(5));
        check(in -> in[0].sub(0.25f), randn(5));
        check(in -> in[0].mul(-3f), randn(2, 3));
        check(in -> in[0].div(7f), randn(2, 3));
        check(in -> in[0].neg(), randn(4));
    }

    @Test
    void unaryOps() {
        check(in -> in[0].exp(), randn(3, 3));
        check(in -> in[0].log(), uniform(0.5f, 3f, 3, 3));
        check(in -> in[0].sqrt(), uniform(0.5f, 3f, 3, 3));
        check(in -> in[0].log1p(), uniform(-0.5f, 3f, 3, 3));
        check(in -> in[0].pow(3f), randn(3, 3));
        check(in -> in[0].pow(-1.5f), uniform(0.5f, 2f, 3, 3));
        check(in -> in[0].abs(), awayFromZero(0.1f, 3, 3));
        check(in -> in[0].relu(), awayFromZero(0.1f, 3, 3));
        check(in -> in[0].leakyRelu(0.1f), awayFromZero(0.1f, 3, 3));
        check(in -> in[0].sigmoid(), randn(3, 3));
        check(in -> in[0].tanh(), randn(3, 3));
        check(in -> in[0].gelu(), randn(3, 3));
        check(in -> in[0].clamp(-0.5f, 0.5f), awayFromZero(0.1f, 3, 3).mul(0.7f).add(0.02f));
    }

    @Test
    void where() {
        Tensor cond = Tensor.of(new float[] {1, 0, 0, 1}, 4);
        check(in -> Tensor.where(cond, in[0], in[1]), randn(3, 4), randn(4));
    }

    @Test
    void reductions() {
        check(in -> in[0].sum(), randn(3, 4));
        check(in -> in[0].sum(1), randn(3, 4));
        check(in -> in[0].sum(new int[] {0, 2}, true), randn(2, 3, 4));
        check(in -> in[0].mean(), randn(3, 4));
        check(in -> in[0].mean(0, true), randn(3, 4));
        check(in -> in[0].mean(new int[] {0, 2}, false), randn(2, 3, 4));
        check(in -> in[0].variance(new int[] {1}, true, false), randn(3, 5));
        check(in -> in[0].variance(new int[] {0, 2}, false, true), randn(2, 3, 4));
    }

    @Test
    void maxAlongDims() {
        // distinct values, gaps far larger than the finite-difference step
        Tensor x = Tensor.of(new float[] {0.1f, 2.0f, -1.0f, 0.7f, 1.5f, -0.3f, 3.1f, 0.0f, -2.2f, 0.9f, 1.2f, 2.7f}, 3, 4);
        check(in -> in[0].max(), x);
        check(in -> in[0].max(1, false), x);
        check(in -> in[0].max(0, true), x);
        check(in -> in[0].reshape(3, 2, 2).max(new int[] {0, 2}, false), x);
    }

    @Test
    void softmaxAndLogSoftmax() {
        check(in -> in[0].softmax(1), randn(3, 5));
        check(in -> in[0].softmax(0), randn(3, 5));
        check(in -> in[0].logSoftmax(-1), randn(2, 3, 4));
        check(in -> in[0].logSoftmax(1), randn(2, 3, 4));
    }

    @Test
    void matmul() {
        check(in -> in[0].matmul(in[1]), randn(3, 4), randn(4, 2));
        check(in -> in[0].t().matmul(in[1].t()), randn(4, 3), randn(2, 4));
        check(in -> in[0].matmul(in[1]), randn(2, 3, 4), randn(2, 4, 5));
        check(in -> in[0].matmul(in[1]), randn(2, 3, 4), randn(4, 5));
        check(in -> in[0].matmul(in[1]), randn(1, 3, 4), randn(2, 1, 4, 2));
    }

    @Test
    void views() {
        check(in -> in[0].reshape(4, 3).mul(in[0].reshape(4, 3)), randn(3, 4));
        check(in -> in[0].permute(2, 0, 1).exp(), randn(2, 3, 4));
        check(in -> in[0].transpose(0, 1).matmul(in[1]), randn(3, 2), randn(3, 3));
        check(in -> in[0].narrow(1, 1, 2).exp(), randn(3, 4));
        check(in -> in[0].select(0, 1).exp(), randn(3, 4));
        check(in -> in[0].expand(2, 3, 4).exp(), randn(3, 1));
        check(in -> in[0].unsqueeze(1).squeeze(1).exp(), randn(3, 4));
        check(in -> in[0].t().contiguous().exp(), randn(3, 4));
    }

    @Test
    void composite() {
        // a two-layer perceptron with a log-softmax head
        check(in -> in[0].matmul(in[1]).add(in[2]).tanh().matmul(in[3]).logSoftmax(1),
                randn(4, 3), randn(3, 5), randn(5), randn(5, 2));
        // one input used by several ops (gradient accumulation inside the graph)
        check(in -> in[0].mul(in[0]).add(in[0].exp()).div(in[0].sigmoid()), randn(6));
    }
}
