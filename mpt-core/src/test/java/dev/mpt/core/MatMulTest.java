package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * matmul against a double reference. FP32 accumulation of k products (each exact for 16-bit
 * inputs, rounded for FP32 inputs) gives |acc - ref| <= k u_32 sum_p |a_ip b_pj| (Higham,
 * gamma_k, first order); a 16-bit output adds one rounding: u_out |ref| + half its subnormal
 * spacing (plus u_out times the accumulation error).
 */
class MatMulTest {

    private final SplittableRandom rng = new SplittableRandom(9);

    private static void assertMatmul(Tensor a, Tensor b, Tensor c) {
        DType dt = a.dtype();
        assertEquals(dt, c.dtype());
        int[] as = a.shape();
        int[] bs = b.shape();
        int ra = as.length;
        int rb = bs.length;
        int m = as[ra - 2];
        int k = as[ra - 1];
        int n = bs[rb - 1];
        int[] cs = c.shape();
        int[] batch = java.util.Arrays.copyOf(cs, cs.length - 2);
        int[] aBatch = java.util.Arrays.copyOf(as, ra - 2);
        int[] bBatch = java.util.Arrays.copyOf(bs, rb - 2);
        float[] av = a.toFloatArray();
        float[] bv = b.toFloatArray();
        float[] cv = c.toFloatArray();
        int nb = cv.length / (m * n);
        for (int bi = 0; bi < nb; bi++) {
            int[] idx = Ref.unravel(bi, batch);
            int ao = Ref.broadcastOffset(idx, aBatch) * m * k;
            int bo = Ref.broadcastOffset(idx, bBatch) * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = 0;
                    double abs = 0;
                    for (int p = 0; p < k; p++) {
                        double prod = (double) av[ao + i * k + p] * bv[bo + p * n + j];
                        ref += prod;
                        abs += Math.abs(prod);
                    }
                    double acc = k * Ref.U32 * abs;
                    double u = dt == DType.FP32 ? 0 : Ref.unitRoundoff(dt);
                    double tol = acc * (1 + u) + u * Math.abs(ref) + (dt == DType.FP32 ? 0 : Ref.absFloor(dt));
                    float got = cv[bi * m * n + i * n + j];
                    assertTrue(Math.abs(got - ref) <= tol, dt + " c[" + bi + "," + i + "," + j + "] = " + got + " vs " + ref);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void twoDimensional(DType dt) {
        Tensor a = Tensor.randn(rng, dt, 7, 13);
        Tensor b = Tensor.randn(rng, dt, 13, 5);
        Tensor c = a.matmul(b);
        assertArrayEquals(new int[] {7, 5}, c.shape());
        assertMatmul(a, b, c);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void transposedViews(DType dt) {
        Tensor at = Tensor.randn(rng, dt, 13, 7);
        Tensor bt = Tensor.randn(rng, dt, 5, 13);
        assertMatmul(at.t().contiguous(), bt.t().contiguous(), at.t().matmul(bt.t()));
        assertMatmul(at.t().contiguous(), bt.t().contiguous(), at.t().contiguous().matmul(bt.t()));
        // a narrowed (row-strided) operand and a column slice that needs a copy
        Tensor wide = Tensor.randn(rng, dt, 7, 20);
        Tensor a = wide.narrow(1, 3, 13);
        Tensor b = Tensor.randn(rng, dt, 13, 5);
        assertMatmul(a.contiguous(), b, a.matmul(b));
        Tensor strided = Tensor.randn(rng, dt, 14, 10).permute(1, 0).narrow(0, 0, 5).t(); // [14, 5] view
        Tensor x = Tensor.randn(rng, dt, 3, 14);
        assertMatmul(x, strided.contiguous(), x.matmul(strided));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void batchedWithBroadcast(DType dt) {
        Tensor a = Tensor.randn(rng, dt, 2, 1, 3, 4);
        Tensor b = Tensor.randn(rng, dt, 3, 4, 5);
        Tensor c = a.matmul(b);
        assertArrayEquals(new int[] {2, 3, 3, 5}, c.shape());
        assertMatmul(a, b, c);
        Tensor d = Tensor.randn(rng, dt, 4, 6);
        assertMatmul(b.transpose(1, 2).contiguous(), d.t().contiguous().t().contiguous(), b.transpose(1, 2).matmul(d));
    }

    @Test
    void fp16AccumulatesInFp32() {
        // 2048 * (1 * 1) + 1: exact in FP32, while FP16 accumulation would stall at 2048
        int k = 2049;
        Tensor a = Tensor.ones(DType.FP16, 1, k);
        Tensor b = Tensor.ones(DType.FP16, k, 1);
        assertEquals(2048f, a.matmul(b).item(), "2049 rounds to 2048 in FP16 (ties to even)");
        Tensor b2 = Tensor.ones(DType.FP16, k + 2, 1);
        assertEquals(2052f, Tensor.ones(DType.FP16, 1, k + 2).matmul(b2).item(),
                "2051 rounds once to 2052; FP16 accumulation would stay at 2048");
    }

    @Test
    void badShapesAndDtypes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.ones(2, 3).matmul(Tensor.ones(4, 2)));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[2, 3]")
                && e.getMessage().contains("[4, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.ones(3).matmul(Tensor.ones(3, 2)));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.ones(DType.FP16, 2, 2).matmul(Tensor.ones(2, 2)));
        assertEquals("matmul: dtype mismatch FP16 vs FP32; convert one with to(DType)", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.ones(2, 2, 3).matmul(Tensor.ones(3, 3, 2)));
    }

    @Test
    void emptyInnerDimensionGivesZeros() {
        assertArrayEquals(new float[4], Tensor.ones(2, 0).matmul(Tensor.ones(0, 2)).toFloatArray());
    }
}
