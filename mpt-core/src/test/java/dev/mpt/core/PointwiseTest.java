package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Point-wise ops against double references evaluated on the (already rounded) inputs.
 *
 * <p>Tolerance: the kernel computes each element in FP32 (transcendentals in double, rounded to
 * FP32) and rounds once to the output dtype, so |out - ref| <= (u_out + u_32 + 2^-40) |ref| +
 * (half the output's subnormal spacing): u_out for the final rounding, u_32 for the FP32
 * intermediate (zero when the output is FP32 and the op is a single FP32 operation, bounded
 * anyway), 2^-40 for the double evaluation of transcendentals (a few ulps of double, with the
 * cancellation of 1 + tanh(z) for GELU at |x| <= 5 costing at most 2^11 of them). GELU evaluates
 * its sigmoid in FP32 arithmetic and has its own derived bound ({@link #geluMatchesDoubleWithinItsBound}).
 */
class PointwiseTest {

    private final SplittableRandom rng = new SplittableRandom(11);

    private static double tol(DType t, double ref) {
        return (Ref.unitRoundoff(t) + Ref.U32 + 0x1p-40) * Math.abs(ref) + Ref.absFloor(t);
    }

    private void checkUnary(DType dt, Tensor x, UnaryOperator<Tensor> op, DoubleUnaryOperator ref) {
        Tensor y = op.apply(x);
        assertEquals(dt, y.dtype());
        assertArrayEquals(x.shape(), y.shape());
        float[] xs = x.toFloatArray();
        float[] ys = y.toFloatArray();
        for (int i = 0; i < xs.length; i++) {
            double r = ref.applyAsDouble(xs[i]);
            double err = Math.abs(ys[i] - r);
            int k = i;
            assertTrue(err <= tol(dt, r) || (Double.isNaN(r) && Float.isNaN(ys[i])),
                    () -> dt + " x=" + xs[k] + " got " + ys[k] + " want " + r);
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void unaryOpsMatchDoubleReference(DType dt) {
        Tensor x = Tensor.randn(rng, DType.FP32, 4, 50).mul(2f).to(dt);
        Tensor pos = Tensor.rand(rng, DType.FP32, 4, 50).mul(10f).add(0.01f).to(dt);
        checkUnary(dt, x, Tensor::neg, v -> -v);
        checkUnary(dt, x, Tensor::exp, Math::exp);
        checkUnary(dt, pos, Tensor::log, Math::log);
        checkUnary(dt, pos.mul(1e-3f), Tensor::log1p, Math::log1p);
        checkUnary(dt, pos, Tensor::sqrt, Math::sqrt);
        checkUnary(dt, pos, t -> t.pow(1.7f), v -> Math.pow(v, 1.7f));
        checkUnary(dt, x, t -> t.pow(2f), v -> v * v);
        checkUnary(dt, x, Tensor::abs, Math::abs);
        checkUnary(dt, x, Tensor::relu, v -> Math.max(v, 0));
        checkUnary(dt, x, t -> t.leakyRelu(0.01f), v -> v > 0 ? v : v * 0.01f);
        checkUnary(dt, x, Tensor::sigmoid, v -> 1 / (1 + Math.exp(-v)));
        checkUnary(dt, x, Tensor::tanh, Math::tanh);
        checkUnary(dt, x, t -> t.clamp(-1f, 0.5f), v -> Math.min(Math.max(v, -1), 0.5));
        checkUnary(dt, x, t -> t.add(0.3f), v -> v + 0.3f);
        checkUnary(dt, x, t -> t.sub(0.3f), v -> v - 0.3f);
        checkUnary(dt, x, t -> t.mul(-1.7f), v -> v * -1.7f);
        checkUnary(dt, x, t -> t.div(3f), v -> v / 3.0);
    }

    @Test
    void geluIsCloseToTheErfForm() {
        // documented: the tanh approximation differs from x Phi(x) by < 5e-4; spot values of x Phi(x)
        Tensor x = Tensor.of(new float[] {-2f, -1f, 0f, 1f, 2f}, 5);
        double[] exact = {-0.04550026, -0.15865525, 0.0, 0.84134475, 1.95449974};
        float[] y = x.gelu().toFloatArray();
        for (int i = 0; i < y.length; i++) {
            assertEquals(exact[i], y[i], 5e-4);
        }
    }

    /**
     * GELU forward and backward against x sigmoid(w), w = 2c (x + a x^3), in double (the same
     * function as 0.5 x (1 + tanh(w / 2)), without its cancellation). Bounds, first order, from the
     * evaluation Unary.GELU documents (u = 2^-24, FloatMath's d_e < 2^-26): s carries
     * {@code e_s = d_e + 5u + u |w| (1 - s)} relatively plus 2^-125 (w rounded to FP32 moves s by
     * {@code s (1 - s) u |w|}); the forward product rounds once (u); the derivative
     * {@code d = s + 2 x s (1 - s) c k}, k = 1 + 3 a x^2, moves by {@code |1 + 2 x c k (1 - 2s)|}
     * times the error of s and rounds once with g; 2^-40 covers the double arithmetic. A 16-bit
     * result (output, or the leaf gradient of a 16-bit input) rounds once more.
     */
    @ParameterizedTest
    @EnumSource(DType.class)
    void geluMatchesDoubleWithinItsBound(DType dt) {
        double u = Ref.U32;
        double c = Math.sqrt(2 / Math.PI);
        double a = 0.044715;
        float[] special = {-60f, -20f, -10f, -5f, -3f, -1f, -1e-3f, -0f, 0f, 1e-3f, 1f, 3f, 5f, 10f, 20f, 60f};
        float[] xv = Tensor.randn(rng, DType.FP32, 3000).mul(3f).toFloatArray();
        System.arraycopy(special, 0, xv, 0, special.length);
        Tensor x = Tensor.of(xv, xv.length).to(dt).requiresGrad(true);
        Tensor g = Tensor.randn(rng, DType.FP32, xv.length);
        Tensor y = x.gelu();
        y.to(DType.FP32).mul(g).sum().backward();
        float[] xs = x.toFloatArray();
        float[] ys = y.toFloatArray();
        // the walk hands GELU the gradient of its 16-bit output rounded to that dtype
        float[] gs = g.to(dt).toFloatArray();
        float[] dx = x.grad().toFloatArray();
        double uo = dt == DType.FP32 ? 0 : Ref.unitRoundoff(dt);
        for (int i = 0; i < xs.length; i++) {
            double v = xs[i];
            double w = 2 * c * (v + a * v * v * v);
            double s = 1 / (1 + Math.exp(-w));
            double es = 0x1p-26 + 5 * u + u * Math.abs(w) * (1 - s);
            double ref = v * s;
            double acc = (es + u + 0x1p-40) * Math.abs(ref) + 0x1p-125 * Math.abs(v);
            double tol = acc * (1 + uo) + uo * Math.abs(ref) + (dt == DType.FP32 ? 0 : Ref.absFloor(dt));
            assertEquals(ref, ys[i], tol, dt + " gelu(" + v + ")");
            double k = 1 + 3 * a * v * v;
            double d = s + 2 * v * s * (1 - s) * c * k;
            double gref = gs[i] * d;
            double gacc = Math.abs(gs[i]) * Math.abs(1 + 2 * v * c * k * (1 - 2 * s)) * (es * s + 0x1p-125)
                    + (u + 0x1p-40) * Math.abs(gref);
            double gtol = gacc * (1 + uo) + uo * Math.abs(gref) + (dt == DType.FP32 ? 0 : Ref.absFloor(dt));
            assertEquals(gref, dx[i], gtol, dt + " gelu'(" + v + ")");
        }
    }

    @Test
    void largeUnaryRunsInParallelWithTheSameResult() {
        Tensor x = Tensor.randn(rng, DType.FP16, 300_001);
        float[] y = x.tanh().toFloatArray();
        float[] xs = x.toFloatArray();
        for (int i = 0; i < xs.length; i += 997) {
            assertEquals(Float.floatToFloat16((float) Math.tanh(xs[i])), Float.floatToFloat16(y[i]));
        }
    }

    private void checkBinary(DType dt, int[] as, int[] bs, UnaryOperator<Tensor> prepA,
                             java.util.function.BinaryOperator<Tensor> op, DoubleBinaryOperator ref) {
        Tensor a = prepA.apply(Tensor.randn(rng, DType.FP32, as).to(dt));
        Tensor b = Tensor.rand(rng, DType.FP32, bs).add(0.5f).to(dt);
        Tensor y = op.apply(a, b);
        int[] outShape = Strided.broadcast("test", a.shape(), b.shape());
        assertArrayEquals(outShape, y.shape());
        assertEquals(dt, y.dtype());
        double[] r = Ref.broadcast(Ref.toDouble(a.toFloatArray()), a.shape(), Ref.toDouble(b.toFloatArray()),
                b.shape(), outShape, ref);
        float[] ys = y.toFloatArray();
        for (int i = 0; i < r.length; i++) {
            int k = i;
            assertTrue(Math.abs(ys[i] - r[i]) <= tol(dt, r[i]), () -> dt + " element " + k + ": " + ys[k] + " vs " + r[k]);
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void binaryOpsBroadcastLikeNumpy(DType dt) {
        int[][][] shapes = {
            {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{5}, {}}, {{}, {2, 3}}, {{1}, {2, 3}},
            {{2, 3, 1, 5}, {3, 4, 1}},
        };
        for (int[][] s : shapes) {
            checkBinary(dt, s[0], s[1], t -> t, Tensor::add, Double::sum);
            checkBinary(dt, s[0], s[1], t -> t, Tensor::sub, (p, q) -> p - q);
            checkBinary(dt, s[0], s[1], t -> t, Tensor::mul, (p, q) -> p * q);
            checkBinary(dt, s[0], s[1], t -> t, Tensor::div, (p, q) -> p / q);
            checkBinary(dt, s[0], s[1], t -> t, Tensor::maximum, Math::max);
            checkBinary(dt, s[0], s[1], t -> t, Tensor::minimum, Math::min);
            checkBinary(dt, s[0], s[1], t -> t, Tensor::gt, (p, q) -> p > q ? 1 : 0);
            checkBinary(dt, s[0], s[1], t -> t, Tensor::le, (p, q) -> p <= q ? 1 : 0);
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void largeBroadcastsRunInParallelTasks(DType dt) {
        // over 2 * Grain.ELEMENTWISE elements: split into tasks that start mid-row
        checkBinary(dt, new int[] {300, 301}, new int[] {301}, t -> t, Tensor::add, Double::sum);
        checkBinary(dt, new int[] {257, 301}, new int[] {257, 1}, t -> t, Tensor::mul, (p, q) -> p * q);
        // equal shapes coalesce into one run longer than Pointwise.BLOCK; a starts at an offset
        checkBinary(dt, new int[] {301, 301}, new int[] {300, 301}, t -> t.narrow(0, 1, 300), Tensor::sub,
                (p, q) -> p - q);
        checkBinary(dt, new int[] {5000}, new int[] {}, t -> t, Tensor::div, (p, q) -> p / q);
        checkBinary(dt, new int[] {}, new int[] {5000}, t -> t, Tensor::div, (p, q) -> p / q);
        checkUnary(dt, Tensor.randn(rng, DType.FP32, 3, 5000).to(dt).narrow(0, 1, 2), Tensor::exp, Math::exp);
    }

    @Test
    void nonContiguousOperands() {
        // transposed, narrowed and expanded views as inputs
        checkBinary(DType.FP16, new int[] {4, 3}, new int[] {3, 4}, Tensor::t, Tensor::mul, (p, q) -> p * q);
        checkBinary(DType.FP32, new int[] {3, 6}, new int[] {3, 3}, t -> t.narrow(1, 2, 3), Tensor::sub, (p, q) -> p - q);
        checkBinary(DType.BF16, new int[] {3, 1}, new int[] {3, 4}, t -> t.expand(3, 4), Tensor::add, Double::sum);
        checkUnary(DType.FP16, Tensor.randn(rng, DType.FP16, 5, 4).t(), Tensor::exp, Math::exp);
    }

    @Test
    void comparisonsReturnZeroOneInTheInputDtype() {
        Tensor a = Tensor.of(new float[] {1, 2, 3}, 3).to(DType.FP16);
        Tensor b = Tensor.of(new float[] {2, 2, 2}, 3).to(DType.FP16);
        assertEquals(DType.FP16, a.gt(b).dtype());
        assertArrayEquals(new float[] {0, 0, 1}, a.gt(b).toFloatArray());
        assertArrayEquals(new float[] {1, 0, 0}, a.lt(b).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 1}, a.ge(b).toFloatArray());
        assertArrayEquals(new float[] {1, 1, 0}, a.le(b).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 0}, a.eq(b).toFloatArray());
        assertArrayEquals(new float[] {1, 0, 1}, a.ne(b).toFloatArray());
    }

    @Test
    void whereSelectsAndBroadcasts() {
        Tensor cond = Tensor.of(new float[] {1, 0, 2}, 3).to(DType.BF16);
        Tensor a = Tensor.of(new float[] {10, 20}, 2, 1);
        Tensor b = Tensor.scalar(-1f);
        Tensor y = Tensor.where(cond, a, b);
        assertArrayEquals(new int[] {2, 3}, y.shape());
        assertArrayEquals(new float[] {10, -1, 10, 20, -1, 20}, y.toFloatArray());
    }

    @Test
    void nanAndInfinityPropagate() {
        Tensor x = Tensor.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f}, 3).to(DType.FP16);
        float[] y = x.exp().toFloatArray();
        assertTrue(Float.isNaN(y[0]));
        assertEquals(Float.POSITIVE_INFINITY, y[1]);
        assertTrue(Float.isNaN(x.log().toFloatArray()[2]));
        assertEquals(Float.POSITIVE_INFINITY, Tensor.full(DType.FP16, 60000f, 1).mul(2f).item(), "FP16 overflow");
    }

    @Test
    void dtypeMismatchNamesOpAndDtypes() {
        Tensor h = Tensor.ones(DType.FP16, 2);
        Tensor f = Tensor.ones(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.add(f));
        assertEquals("add: dtype mismatch FP16 vs FP32; convert one with to(DType)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.where(f, h, f));
        assertTrue(e.getMessage().startsWith("where: dtype mismatch"), e.getMessage());
    }

    @Test
    void shapeMismatchNamesOpAndShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.ones(3, 4).mul(Tensor.ones(3)));
        assertTrue(e.getMessage().contains("mul") && e.getMessage().contains("[3, 4]")
                && e.getMessage().contains("[3]"), e.getMessage());
        assertThrows(NullPointerException.class, () -> Tensor.ones(1).add((Tensor) null));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ones(1).clamp(1f, 0f));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ones(1).clamp(Float.NaN, 0f));
    }
}
