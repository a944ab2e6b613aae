package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ViewTest {

    private static Tensor iota(DType dt, int... shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return Tensor.arange(n).reshape(shape).to(dt);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void writesThroughViewsReachTheBase(DType dt) {
        Tensor base = iota(dt, 3, 4);
        base.reshape(12).narrow(0, 2, 1).fill_(-1f);
        assertEquals(-1f, base.get(0, 2));
        base.t().select(0, 3).fill_(7f); // column 3
        assertArrayEquals(new float[] {7, 7, 7}, base.select(1, 3).toFloatArray());
        base.permute(1, 0).narrow(1, 1, 1).copy_(new float[] {10, 11, 12, 13}); // row 1
        assertArrayEquals(new float[] {10, 11, 12, 13}, base.select(0, 1).toFloatArray());
        base.unsqueeze(0).narrow(2, 0, 1).squeeze(0).zero_(); // column 0
        assertArrayEquals(new float[] {0, 0, 0}, base.select(1, 0).toFloatArray());
        assertArrayEquals(new float[] {0, 1, -1, 7, 0, 11, 12, 13, 0, 9, 10, 7}, base.toFloatArray());
    }

    @Test
    void reshapeInfersAndCopiesOnlyWhenNeeded() {
        Tensor x = iota(DType.FP32, 2, 3, 4);
        Tensor r = x.reshape(4, -1);
        assertArrayEquals(new int[] {4, 6}, r.shape());
        assertSame(x.floatData(), r.floatData(), "contiguous reshape is a view");
        Tensor t = x.transpose(1, 2);
        assertFalse(t.isContiguous());
        Tensor rt = t.reshape(-1);
        assertTrue(rt.isContiguous());
        assertNotSame(x.floatData(), rt.floatData());
        float[] expected = new float[24];
        int k = 0;
        for (int a = 0; a < 2; a++) {
            for (int c = 0; c < 4; c++) {
                for (int b = 0; b < 3; b++) {
                    expected[k++] = a * 12 + b * 4 + c;
                }
            }
        }
        assertArrayEquals(expected, rt.toFloatArray());
        assertArrayEquals(expected, t.contiguous().toFloatArray());
        assertSame(x, x.contiguous());
    }

    @Test
    void reshapeOfAStridedViewStaysAView() {
        Tensor x = iota(DType.FP32, 4, 6);
        Tensor rows = x.narrow(0, 1, 2); // contiguous rows, offset 6
        Tensor r = rows.reshape(3, 4);
        r.fill_(0f);
        assertEquals(0f, x.get(2, 5));
        Tensor cols = x.narrow(1, 0, 4).reshape(4, 2, 2); // splits the strided last dim
        assertArrayEquals(new int[] {6, 2, 1}, cols.strides());
        cols.select(2, 1).fill_(-1f);
        assertEquals(-1f, x.get(0, 3));
        assertEquals(-1f, x.get(3, 1));
        assertEquals(20f, x.get(3, 2));
    }

    @Test
    void permuteTransposeAndStrides() {
        Tensor x = iota(DType.FP16, 2, 3, 4);
        Tensor p = x.permute(2, 0, 1);
        assertArrayEquals(new int[] {4, 2, 3}, p.shape());
        assertArrayEquals(new int[] {1, 12, 4}, p.strides());
        assertEquals(x.get(1, 2, 3), p.get(3, 1, 2));
        assertEquals(x.get(1, 0, 2), x.transpose(-1, 0).get(2, 0, 1));
        assertArrayEquals(new int[] {3, 2}, iota(DType.FP32, 2, 3).t().shape());
    }

    @Test
    void narrowSelectExpand() {
        Tensor x = iota(DType.BF16, 4, 5);
        Tensor n = x.narrow(0, 1, 2).narrow(1, 2, 3);
        assertArrayEquals(new int[] {2, 3}, n.shape());
        assertEquals(7, n.storageOffset());
        assertArrayEquals(new float[] {7, 8, 9, 12, 13, 14}, n.toFloatArray());
        assertArrayEquals(new float[] {2, 7, 12, 17}, x.select(1, 2).toFloatArray());
        Tensor col = Tensor.of(new float[] {1, 2}, 2, 1);
        Tensor e = col.expand(3, 2, 4);
        assertArrayEquals(new int[] {0, 1, 0}, e.strides());
        assertArrayEquals(new float[] {1, 1, 1, 1, 2, 2, 2, 2}, e.select(0, 2).toFloatArray());
        assertArrayEquals(new int[] {2, 4}, col.expand(-1, 4).shape());
        assertEquals(0, x.narrow(1, 5, 0).numel());
    }

    @Test
    void badViewArgumentsAreReported() {
        Tensor x = Tensor.ones(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.reshape(4, 2));
        assertTrue(e.getMessage().contains("reshape") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.reshape(-1, -1));
        assertThrows(IllegalArgumentException.class, () -> x.reshape(4, -1));
        e = assertThrows(IllegalArgumentException.class, () -> x.permute(0, 0));
        assertTrue(e.getMessage().contains("permutation"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.permute(0));
        e = assertThrows(IllegalArgumentException.class, () -> x.narrow(1, 2, 2));
        assertTrue(e.getMessage().contains("narrow") && e.getMessage().contains("size 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.expand(2, 4));
        assertTrue(e.getMessage().contains("expand"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.expand(3));
        assertThrows(IllegalArgumentException.class, () -> x.squeeze(0));
        assertThrows(IllegalArgumentException.class, () -> x.unsqueeze(3));
        assertThrows(IllegalArgumentException.class, () -> x.select(0, 2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ones(2, 2, 2).t());
    }
}
