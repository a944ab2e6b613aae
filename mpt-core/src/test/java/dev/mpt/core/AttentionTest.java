package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AttentionTest {

    /** The masks every numerical test runs under. */
    private enum Mask {
        NONE, CAUSAL, PADDING, CAUSAL_AND_PADDING;

        boolean causal() {
            return this == CAUSAL || this == CAUSAL_AND_PADDING;
        }

        /** Padding of the last keys, a different number per batch row (all keys but one in row 0). */
        Tensor padding(int b, int tk) {
            if (this != PADDING && this != CAUSAL_AND_PADDING) {
                return null;
            }
            float[] m = new float[b * tk];
            for (int r = 0; r < b; r++) {
                int keep = r == 0 ? 1 : Math.max(1, tk - 3 * r - 1);
                for (int j = keep; j < tk; j++) {
                    m[r * tk + j] = 1f;
                }
            }
            return Tensor.of(m, b, tk);
        }
    }

    private static Tensor[] inputs(long seed, DType dt, int b, int h, int tq, int tk, int d, int dv, float qScale) {
        var rng = new SplittableRandom(seed);
        return new Tensor[] {Tensor.randn(rng, DType.FP32, b, h, tq, d).mul(qScale).to(dt),
                Tensor.randn(rng, DType.FP32, b, h, tk, d).to(dt),
                Tensor.randn(rng, DType.FP32, b, h, tk, dv).to(dt)};
    }

    /**
     * Forward and backward against the double reference, over sizes that span several query and key
     * blocks (so the running max rescales), for every mask and every dtype, with and without dropout.
     */
    @Test
    void forwardAndBackwardMatchTheDoubleReferenceWithinDerivedBounds() {
        int b = 2;
        int h = 2;
        int tq = 37;
        int tk = 70;
        int d = 8;
        int dv = 6;
        for (DType dt : DType.values()) {
            for (Mask mask : Mask.values()) {
                for (double drop : new double[] {0, 0.25}) {
                    String what = dt + " " + mask + " dropout " + drop;
                    Tensor[] in = inputs(11, dt, b, h, tq, tk, d, dv, 2f);
                    for (Tensor t : in) {
                        t.requiresGrad(true);
                    }
                    Tensor pad = mask.padding(b, tk);
                    Tensor out = Attention.forward(in[0], in[1], in[2], pad, mask.causal(), drop, 99);
                    assertEquals(dt, out.dtype(), what);
                    // upstream weights representable in dt, so the walk's rounding of dOut is exact
                    Tensor w = Tensor.randn(new SplittableRandom(12), DType.FP32, b, h, tq, dv).to(dt).to(DType.FP32);
                    out.to(DType.FP32).mul(w).sum().backward();

                    AttentionBlocks blk = blocks(in, pad, mask.causal(), drop, 99);
                    var ref = new AttentionReference(blk, d(in[0]), d(in[1]), d(in[2]), d(w), Ref.unitRoundoff(dt),
                            Ref.absFloor(dt));
                    within(what + " output", ref.out, ref.outErr, out);
                    within(what + " dq", ref.dq, ref.dqErr, in[0].grad());
                    within(what + " dk", ref.dk, ref.dkErr, in[1].grad());
                    within(what + " dv", ref.dv, ref.dvErr, in[2].grad());
                }
            }
        }
    }

    /**
     * The blockwise op against the plain twin, softmax(Q K^T / sqrt(D) + mask) V composed from FP32
     * tensor ops on the same (widened) inputs: their difference stays within the sum of both derived
     * bounds, for every mask.
     */
    @Test
    void blockwiseEqualsTheNaiveCompositionForEveryMask() {
        int b = 2;
        int h = 2;
        int tq = 70;
        int tk = 70;
        int d = 8;
        for (DType dt : DType.values()) {
            for (Mask mask : Mask.values()) {
                Tensor[] in = inputs(21, dt, b, h, tq, tk, d, d, 3f);
                Tensor pad = mask.padding(b, tk);
                Tensor got = Attention.forward(in[0], in[1], in[2], pad, mask.causal());
                Tensor naive = naive(in, pad, mask.causal());
                AttentionBlocks blk = blocks(in, pad, mask.causal(), 0, 0);
                double[] zero = new double[b * h * tq * d];
                var ref = new AttentionReference(blk, d(in[0]), d(in[1]), d(in[2]), zero, Ref.unitRoundoff(dt),
                        Ref.absFloor(dt));
                var ref32 = new AttentionReference(blk, d(in[0]), d(in[1]), d(in[2]), zero, Ref.U32,
                        Ref.absFloor(DType.FP32));
                float[] n = naive.toFloatArray();
                double[] bound = new double[n.length];
                for (int i = 0; i < n.length; i++) {
                    // the naive chain rounds a few more times than the op (softmax's exp, sum, divide):
                    // its bound is the FP32 one plus 8 u32 |o|
                    bound[i] = ref.outErr[i] + ref32.outErr[i] + 8 * Ref.U32 * Math.abs(ref.out[i]);
                }
                within(dt + " " + mask + " blockwise vs naive", Ref.toDouble(n), bound, got);
            }
        }
    }

    /** softmax(scale Q K^T + mask) V from FP32 tensor ops; a row with no visible key gives 0. */
    private static Tensor naive(Tensor[] in, Tensor pad, boolean causal) {
        Tensor q = in[0].to(DType.FP32);
        Tensor k = in[1].to(DType.FP32);
        Tensor v = in[2].to(DType.FP32);
        int b = q.size(0);
        int tq = q.size(2);
        int tk = k.size(2);
        float scale = (float) (1.0 / Math.sqrt(q.size(3)));
        float[] bias = new float[b * tq * tk];
        float[] alive = new float[b * tq];
        float[] pm = pad == null ? null : pad.toFloatArray();
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < tq; i++) {
                for (int j = 0; j < tk; j++) {
                    boolean hidden = (causal && j > i) || (pm != null && pm[r * tk + j] == 1f);
                    bias[(r * tq + i) * tk + j] = hidden ? Float.NEGATIVE_INFINITY : 0f;
                    alive[r * tq + i] = hidden ? alive[r * tq + i] : 1f;
                }
                if (alive[r * tq + i] == 0f) {
                    java.util.Arrays.fill(bias, (r * tq + i) * tk, (r * tq + i + 1) * tk, 0f);
                }
            }
        }
        Tensor s = q.matmul(k.transpose(2, 3)).mul(scale).add(Tensor.of(bias, b, 1, tq, tk));
        return s.softmax(3).matmul(v).mul(Tensor.of(alive, b, 1, tq, 1));
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        for (Mask mask : Mask.values()) {
            Tensor[] in = inputs(31, DType.FP32, 2, 2, 5, 6, 3, 4, 1f);
            Tensor pad = mask.padding(2, 6);
            GradCheck.assertGradients(a -> Attention.forward(a[0], a[1], a[2], pad, mask.causal()), in);
        }
        Tensor[] in = inputs(32, DType.FP32, 1, 2, 4, 5, 3, 3, 1f);
        GradCheck.assertGradients(a -> Attention.forward(a[0], a[1], a[2], null, true, 0.3, 5), in);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        int before = Parallel.threads();
        try {
            for (DType dt : new DType[] {DType.FP32, DType.FP16}) {
                float[][] one = runAll(dt, 1);
                float[][] three = runAll(dt, 3);
                for (int i = 0; i < one.length; i++) {
                    assertArrayEquals(one[i], three[i], dt + " result " + i);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static float[][] runAll(DType dt, int threads) {
        Parallel.setThreads(threads);
        Tensor[] in = inputs(41, dt, 2, 3, 100, 100, 16, 16, 1f);
        for (Tensor t : in) {
            t.requiresGrad(true);
        }
        Tensor out = Attention.forward(in[0], in[1], in[2], Mask.PADDING.padding(2, 100), true, 0.1, 7);
        Tensor w = Tensor.randn(new SplittableRandom(42), DType.FP32, 2, 3, 100, 16);
        out.to(DType.FP32).mul(w).sum().backward();
        return new float[][] {out.toFloatArray(), in[0].grad().toFloatArray(), in[1].grad().toFloatArray(),
                in[2].grad().toFloatArray()};
    }

    @Test
    void dropoutKeepsTheExpectedShareAndRepeatsWithItsSeed() {
        Tensor[] in = inputs(51, DType.FP32, 1, 1, 64, 64, 4, 4, 1f);
        AttentionBlocks blk = blocks(in, null, false, 0.25, 3);
        int kept = 0;
        for (int i = 0; i < 64; i++) {
            for (int j = 0; j < 64; j++) {
                float z = blk.keep(0, 0, i, j);
                assertTrue(z == 0f || z == (float) (1 / 0.75));
                kept += z == 0f ? 0 : 1;
            }
        }
        // 4096 Bernoulli(0.75) draws: mean 3072, standard deviation 27.7; 6 sigma
        assertTrue(Math.abs(kept - 3072) < 6 * 27.7, "kept " + kept);
        float[] a = Attention.forward(in[0], in[1], in[2], null, false, 0.25, 3).toFloatArray();
        float[] b = Attention.forward(in[0], in[1], in[2], null, false, 0.25, 3).toFloatArray();
        float[] c = Attention.forward(in[0], in[1], in[2], null, false, 0.25, 4).toFloatArray();
        assertArrayEquals(a, b);
        assertTrue(!java.util.Arrays.equals(a, c), "another seed draws another mask");
    }

    @Test
    void badInputsAreRefusedWithMessages() {
        Tensor[] in = inputs(61, DType.FP32, 2, 2, 3, 4, 5, 6, 1f);
        Tensor q = in[0];
        Tensor k = in[1];
        Tensor v = in[2];
        message(NullPointerException.class, "'q' is null", () -> Attention.forward(null, k, v, null, false));
        message(NullPointerException.class, "'v' is null", () -> Attention.forward(q, k, null, null, false));
        message(IllegalArgumentException.class, "'q' must be [B, H, T, D]",
                () -> Attention.forward(q.select(0, 0), k, v, null, false));
        message(IllegalArgumentException.class, "'k' must be [B, H, T, D] with all sizes >= 1",
                () -> Attention.forward(q, k.narrow(2, 0, 0), v, null, false));
        message(IllegalArgumentException.class, "'k' must be [B, H, Tk, D] = [2, 2, Tk, 5]",
                () -> Attention.forward(q, v, v, null, false));
        message(IllegalArgumentException.class, "'v' must be [B, H, Tk, Dv] = [2, 2, 4, Dv]",
                () -> Attention.forward(q, k, q, null, false));
        message(IllegalArgumentException.class, "must share a dtype, got FP32, FP16, FP32",
                () -> Attention.forward(q, k.to(DType.FP16), v, null, false));
        message(IllegalArgumentException.class, "'keyPadding' must have shape [2, 4], got [2, 3]",
                () -> Attention.forward(q, k, v, Tensor.zeros(2, 3), false));
        message(IllegalArgumentException.class, "'keyPadding' must hold 0 (attend) or 1 (ignore), got 0.5",
                () -> Attention.forward(q, k, v, Tensor.full(0.5f, 2, 4), false));
        message(IllegalArgumentException.class, "'dropout' must be in [0, 1), got 1.0",
                () -> Attention.forward(q, k, v, null, false, 1.0, 0));
        message(IllegalArgumentException.class, "'dropout' must be in [0, 1), got NaN",
                () -> Attention.forward(q, k, v, null, false, Double.NaN, 0));
    }

    @Test
    void aRowThatSeesNoKeyGivesZeroAndNoGradient() {
        Tensor[] in = inputs(71, DType.FP16, 1, 1, 3, 4, 2, 2, 1f);
        for (Tensor t : in) {
            t.requiresGrad(true);
        }
        Tensor out = Attention.forward(in[0], in[1], in[2], Tensor.ones(1, 4), false);
        out.to(DType.FP32).sum().backward();
        for (float x : out.toFloatArray()) {
            assertEquals(0f, x);
        }
        for (Tensor t : in) {
            for (float x : t.grad().toFloatArray()) {
                assertEquals(0f, x);
            }
        }
    }

    private static AttentionBlocks blocks(Tensor[] in, Tensor pad, boolean causal, double drop, long seed) {
        boolean[] padded = null;
        if (pad != null) {
            float[] m = pad.toFloatArray();
            padded = new boolean[m.length];
            for (int i = 0; i < m.length; i++) {
                padded[i] = m[i] == 1f;
            }
        }
        return new AttentionBlocks(in[0], in[1], in[2], padded, causal, (float) (1 / Math.sqrt(in[0].size(3))), drop,
                seed);
    }

    private static void message(Class<? extends RuntimeException> type, String part, Runnable r) {
        RuntimeException e = assertThrows(type, r::run);
        assertTrue(e.getMessage().contains(part) && e.getMessage().startsWith("attention: "), e.getMessage());
    }

    private static double[] d(Tensor t) {
        return Ref.toDouble(t.toFloatArray());
    }

    /** |got - want| <= 2 * bound, element-wise; the factor covers the neglected second-order terms. */
    private static void within(String what, double[] want, double[] bound, Tensor got) {
        float[] g = got.toFloatArray();
        assertEquals(want.length, g.length, what + ": length");
        for (int i = 0; i < g.length; i++) {
            double err = Math.abs(g[i] - want[i]);
            if (!(err <= 2 * bound[i])) {
                throw new AssertionError(what + "[" + i + "]: got " + g[i] + ", want " + want[i] + ", error " + err
                        + " > 2 * " + bound[i]);
            }
        }
    }
}
