package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void creationAndAccessors() {
        Tensor z = Tensor.zeros(DType.BF16, 2, 3);
        assertEquals(DType.BF16, z.dtype());
        assertArrayEquals(new int[] {2, 3}, z.shape());
        assertEquals(2, z.dim());
        assertEquals(3, z.size(-1));
        assertEquals(6, z.numel());
        assertArrayEquals(new float[6], z.toFloatArray());
        assertArrayEquals(new float[] {1, 1}, Tensor.ones(DType.FP16, 2).toFloatArray());
        assertArrayEquals(new float[] {2.5f, 2.5f}, Tensor.full(2.5f, 2).toFloatArray());
        assertEquals(0.0999755859375f, Tensor.full(DType.FP16, 0.1f, 1).item(), "rounded to FP16");
        assertEquals(3f, Tensor.scalar(3f).item());
        assertEquals(0, Tensor.scalar(3f).dim());
        int[] shape = {2, 2};
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, shape);
        shape[0] = 9;
        assertArrayEquals(new int[] {2, 2}, t.shape(), "shape is copied in");
        t.shape()[0] = 7;
        assertArrayEquals(new int[] {2, 2}, t.shape(), "shape() returns a copy");
        assertEquals(3f, t.get(1, 0));
        assertArrayEquals(new float[] {0, 1, 2}, Tensor.arange(3).toFloatArray());
        assertArrayEquals(new float[] {1f, 0.5f, 0f, -0.5f}, Tensor.arange(1, -0.75, -0.5).toFloatArray());
        assertEquals(0, Tensor.arange(0).numel());
    }

    @Test
    void randomTensorsAreSeededAndInRange() {
        float[] a = Tensor.rand(new SplittableRandom(1), DType.FP32, 1000).toFloatArray();
        float[] b = Tensor.rand(new SplittableRandom(1), DType.FP32, 1000).toFloatArray();
        assertArrayEquals(a, b);
        for (float v : a) {
            assertTrue(v >= 0f && v < 1f);
        }
        float[] n = Tensor.randn(new SplittableRandom(2), DType.FP32, 20_000).toFloatArray();
        double m = 0;
        double s2 = 0;
        for (float v : n) {
            m += v;
            s2 += v * v;
        }
        m /= n.length;
        double var = s2 / n.length - m * m;
        // 6 standard errors: sd(mean) = 1/sqrt(n) ~ 0.0071, sd(var) = sqrt(2/n) = 0.01
        assertEquals(0, m, 6 * 0.0071);
        assertEquals(1, var, 6 * 0.01);
    }

    @Test
    void conversionIsCorrectlyRounded() {
        SplittableRandom rng = new SplittableRandom(4);
        float[] v = new float[4096];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.intBitsToFloat(rng.nextInt()) ; // every exponent, NaN and infinities included
        }
        Tensor x = Tensor.of(v, 64, 64);
        short[] h = x.to(DType.FP16).shortData();
        short[] b = x.to(DType.BF16).shortData();
        short[] refB = new short[v.length];
        Convert.floatToBFloat16(v, 0, refB, 0, v.length);
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToFloat16(v[i]), h[i]);
        }
        assertArrayEquals(refB, b);
        assertSame(x, x.to(DType.FP32));
        // widening back is exact
        Tensor h16 = x.to(DType.FP16);
        assertArrayEquals(h16.toFloatArray(), h16.to(DType.FP32).to(DType.FP16).toFloatArray());
        // a transposed view converts in logical order
        assertEquals(Float.float16ToFloat(h[64]), x.t().to(DType.FP16).get(0, 1));
    }

    @Test
    void rawDataIsLiveStorage() {
        Tensor x = Tensor.zeros(2, 3);
        x.floatData()[4] = 5f;
        assertEquals(5f, x.get(1, 1));
        Tensor h = Tensor.zeros(DType.FP16, 4);
        h.shortData()[1] = Float.floatToFloat16(1.5f);
        assertEquals(1.5f, h.get(1));
        Tensor row = Tensor.arange(6).reshape(2, 3).narrow(0, 1, 1);
        assertEquals(3, row.storageOffset());
        assertEquals(3f, row.floatData()[row.storageOffset()]);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.t().floatData());
        assertTrue(e.getMessage().contains("contiguous"), e.getMessage());
        assertThrows(IllegalStateException.class, h::floatData);
        assertThrows(IllegalStateException.class, x::shortData);
        float[] copy = x.toFloatArray();
        copy[0] = 9f;
        assertEquals(0f, x.get(0, 0), "toFloatArray returns a copy");
    }

    @Test
    void inPlaceCopiesRoundToTheTensorDtype() {
        Tensor h = Tensor.zeros(DType.FP16, 2, 2);
        h.t().copy_(new float[] {0.1f, 0.2f, 0.3f, 0.4f}); // written in transposed order
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.2f)), h.get(1, 0));
        Tensor f = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        h.copy_(f.to(DType.BF16));
        assertArrayEquals(new float[] {1, 2, 3, 4}, h.toFloatArray());
        Tensor h2 = Tensor.zeros(DType.FP16, 2, 2).copy_(h.t());
        assertArrayEquals(new float[] {1, 3, 2, 4}, h2.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> h.copy_(new float[3]));
        assertThrows(IllegalArgumentException.class, () -> h.copy_(Tensor.zeros(4)));
        assertTrue(h.allFinite());
        h.fill_(1e6f);
        assertFalse(h.allFinite(), "1e6 overflows FP16 to infinity");
        assertEquals(8, h.nbytes());
    }

    @Test
    void allFiniteChecksEveryDtypeAndLayout() {
        for (DType dt : DType.values()) {
            Tensor t = Tensor.ones(dt, 3, 4);
            assertTrue(t.allFinite());
            t.t().narrow(0, 3, 1).select(0, 0).narrow(0, 2, 1).fill_(Float.NaN); // element [2, 3]
            assertFalse(t.allFinite(), dt + " NaN");
            assertTrue(t.narrow(0, 0, 2).allFinite(), dt + " rows without the NaN");
            assertFalse(t.t().allFinite());
            t.fill_(Float.NEGATIVE_INFINITY);
            assertFalse(t.allFinite(), dt + " -inf");
            assertTrue(Tensor.full(dt, dt == DType.FP16 ? 65504f : 3e38f, 2).allFinite(), dt + " max finite");
        }
    }

    @Test
    void flatBufferCopies() {
        float[] master = {9, 0.1f, 0.2f, 0.3f, 0.4f, 9};
        Tensor h = Tensor.zeros(DType.FP16, 2, 2).copy_(master, 1);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.3f)), h.get(1, 0));
        float[] out = new float[7];
        h.copyTo(out, 2);
        assertArrayEquals(h.toFloatArray(), java.util.Arrays.copyOfRange(out, 2, 6));
        h.t().copyTo(out, 3);
        assertEquals(h.get(1, 0), out[4]);
        assertThrows(IllegalArgumentException.class, () -> h.copy_(master, 3));
        assertThrows(IllegalArgumentException.class, () -> h.copyTo(out, 4));
        assertThrows(IllegalArgumentException.class, () -> h.copyTo(out, -1));
    }

    @Test
    void itemAndGetCheckArguments() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.zeros(2).item());
        assertTrue(e.getMessage().contains("2 elements"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2).get(2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2).get(0, 0));
        assertEquals(0f, Tensor.zeros(1, 1).item());
    }

    @Test
    void badCreationArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertEquals("zeros: negative size in shape [2, -1]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[3], 2, 2));
        assertTrue(e.getMessage().contains("3 elements") && e.getMessage().contains("[2, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(65536, 65536));
        assertThrows(NullPointerException.class, () -> Tensor.zeros((DType) null, 2));
        assertThrows(NullPointerException.class, () -> Tensor.of(null, 2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.arange(0, 1, 0));
        assertThrows(NullPointerException.class, () -> Tensor.randn(null, DType.FP32, 2));
    }

    @Test
    void toStringShowsShapeDtypeAndValues() {
        String s = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).to(DType.FP16).toString();
        assertEquals("Tensor[2, 3] FP16 [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]", s);
        String big = Tensor.arange(5000).reshape(50, 100).toString();
        assertTrue(big.startsWith("Tensor[50, 100] FP32 [[0.0, 1.0, 2.0, ..., 97.0, 98.0, 99.0], "), big);
        assertTrue(big.length() < 1000, "truncated");
        assertEquals("Tensor[] FP32 2.5", Tensor.scalar(2.5f).toString());
        assertTrue(Tensor.ones(1).requiresGrad(true).exp().toString().contains("grad_fn=exp"));
    }
}
