package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IndexJoinDropoutTest {

    private final SplittableRandom rng = new SplittableRandom(13);

    private static void assertGradients(java.util.function.Function<Tensor[], Tensor> fn, Tensor... in) {
        GradCheck.Report r = GradCheck.check(fn, in);
        assertTrue(r.passed(), r::worst);
    }

    @Test
    void indexSelectCopiesBitsAndScatterAddsGradients() {
        Tensor table = Tensor.randn(rng, DType.FP16, 5, 3);
        Tensor rows = table.indexSelect(0, 4, 1, 4);
        assertArrayEquals(new int[] {3, 3}, rows.shape());
        for (int j = 0; j < 3; j++) {
            assertEquals(table.get(4, j), rows.get(0, j));
            assertEquals(table.get(1, j), rows.get(1, j));
        }
        Tensor cols = table.indexSelect(1, 2, 0);
        assertEquals(table.get(3, 2), cols.get(3, 0));
        Tensor w = Tensor.ones(5, 3).requiresGrad(true);
        w.indexSelect(0, 4, 1, 4).sum().backward();
        assertArrayEquals(new float[] {0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2}, w.grad().toFloatArray());
        assertGradients(in -> in[0].indexSelect(1, 1, 1, 0), Tensor.randn(rng, DType.FP32, 2, 3, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> table.indexSelect(0, 5));
        assertTrue(e.getMessage().contains("index[0] = 5"), e.getMessage());
    }

    @Test
    void gatherPicksLabelLogProbabilities() {
        Tensor logits = Tensor.randn(rng, DType.FP32, 4, 6);
        Tensor labels = Tensor.of(new float[] {5, 0, 2, 2}, 4);
        Tensor picked = logits.logSoftmax(1).gather(1, labels.reshape(-1, 1));
        assertArrayEquals(new int[] {4, 1}, picked.shape());
        float[] lsm = logits.logSoftmax(1).toFloatArray();
        assertEquals(lsm[5], picked.get(0, 0));
        assertEquals(lsm[6], picked.get(1, 0));
        assertEquals(lsm[3 * 6 + 2], picked.get(3, 0));
        assertGradients(in -> in[0].logSoftmax(1).gather(1, labels.reshape(-1, 1)).mean(), logits);
        Tensor idx0 = Tensor.of(new float[] {1, 0, 1}, 1, 3);
        assertGradients(in -> in[0].gather(0, idx0), Tensor.randn(rng, DType.FP32, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> logits.gather(1, Tensor.of(new float[] {6}, 1, 1)));
        assertThrows(IllegalArgumentException.class, () -> logits.gather(1, Tensor.of(new float[] {0.5f}, 1, 1)));
        assertThrows(IllegalArgumentException.class, () -> logits.gather(1, labels));
    }

    @Test
    void catAndStack() {
        Tensor a = Tensor.arange(6).reshape(2, 3).to(DType.BF16);
        Tensor b = Tensor.arange(6, 8, 1).reshape(2, 1).to(DType.BF16);
        Tensor c = Tensor.cat(1, a, b);
        assertEquals(DType.BF16, c.dtype());
        assertArrayEquals(new float[] {0, 1, 2, 6, 3, 4, 5, 7}, c.toFloatArray());
        Tensor s = Tensor.stack(0, a, a.mul(2f));
        assertArrayEquals(new int[] {2, 2, 3}, s.shape());
        assertEquals(10f, s.get(1, 1, 2));
        assertArrayEquals(new int[] {2, 3, 2}, Tensor.stack(-1, a, a).shape());
        assertGradients(in -> Tensor.cat(0, in[0], in[1], in[0]).exp(), Tensor.randn(rng, DType.FP32, 2, 3),
                Tensor.randn(rng, DType.FP32, 1, 3));
        assertGradients(in -> Tensor.stack(1, in[0], in[1]).tanh(), Tensor.randn(rng, DType.FP32, 2, 3),
                Tensor.randn(rng, DType.FP32, 2, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.cat(0, a, b));
        assertTrue(e.getMessage().contains("[2, 1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.cat(1, a, Tensor.ones(2, 1)));
        assertThrows(IllegalArgumentException.class, () -> Tensor.stack(0, a, b));
        assertThrows(IllegalArgumentException.class, () -> Tensor.cat(0));
    }

    @Test
    void dropoutKeepsAndScales() {
        Tensor x = Tensor.ones(DType.FP16, 100, 100);
        Tensor y = x.dropout(0.25, new SplittableRandom(1));
        float[] v = y.toFloatArray();
        int kept = 0;
        float scale = Float.float16ToFloat(Float.floatToFloat16(1f / 0.75f));
        for (float e : v) {
            assertTrue(e == 0f || e == scale, "value " + e);
            kept += e != 0f ? 1 : 0;
        }
        // binomial(10000, 0.75): sd = sqrt(10000 * 0.75 * 0.25) ~ 43.3; allow 5 sd
        assertEquals(7500, kept, 5 * 43.3);
        assertArrayEquals(v, x.dropout(0.25, new SplittableRandom(1)).toFloatArray(), "seeded");
        assertSame(x, x.dropout(0, new SplittableRandom(1)));
        Tensor w = Tensor.ones(50).requiresGrad(true);
        Tensor d = w.dropout(0.5, new SplittableRandom(2));
        d.sum().backward();
        assertArrayEquals(d.toFloatArray(), w.grad().toFloatArray(), "gradient uses the forward's mask");
        assertGradients(in -> in[0].dropout(0.3, new SplittableRandom(3)), Tensor.randn(rng, DType.FP32, 4, 4));
        assertThrows(IllegalArgumentException.class, () -> x.dropout(1.0, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> x.dropout(Double.NaN, new SplittableRandom(1)));
    }
}
