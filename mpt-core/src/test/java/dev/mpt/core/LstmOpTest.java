package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LstmOpTest {

    /** The op's inputs, in the order of {@link LstmOp#forward}. */
    private record Inputs(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {

        static Inputs random(long seed, DType dt, int t, int b, int in, int h) {
            var rng = new SplittableRandom(seed);
            return new Inputs(Tensor.randn(rng, DType.FP32, t, b, in).to(dt),
                    Tensor.randn(rng, DType.FP32, b, h).mul(0.5f).to(dt),
                    Tensor.randn(rng, DType.FP32, b, h),
                    Tensor.rand(rng, DType.FP32, 4 * h, in).sub(0.5f).to(dt),
                    Tensor.rand(rng, DType.FP32, 4 * h, h).sub(0.5f).to(dt),
                    Tensor.rand(rng, DType.FP32, 4 * h).sub(0.5f).to(dt),
                    Tensor.rand(rng, DType.FP32, 4 * h).sub(0.5f).to(dt));
        }

        Tensor[] all() {
            return new Tensor[] {x, h0, c0, wIh, wHh, bIh, bHh};
        }

        Inputs withGrad() {
            Tensor[] a = all();
            for (Tensor t : a) {
                t.requiresGrad(true);
            }
            return this;
        }

        LstmOp.Result run() {
            return LstmOp.forward(x, h0, c0, wIh, wHh, bIh, bHh);
        }
    }

    /** The layer as a chain of small ops, as nn.Lstm computed it before the fused op (time-major). */
    private static Tensor[] composed(Inputs in) {
        DType dt = in.x.dtype();
        int hsz = in.wHh.size(1);
        Tensor proj = in.x.matmul(in.wIh.t()).add(in.bIh);
        Tensor h = in.h0;
        Tensor c = in.c0;
        Tensor[] hs = new Tensor[in.x.size(0)];
        for (int t = 0; t < hs.length; t++) {
            Tensor gates = proj.select(0, t).add(h.matmul(in.wHh.t()).add(in.bHh)).to(DType.FP32);
            Tensor i = gates.narrow(1, 0, hsz).sigmoid();
            Tensor f = gates.narrow(1, hsz, hsz).sigmoid();
            Tensor g = gates.narrow(1, 2 * hsz, hsz).tanh();
            Tensor o = gates.narrow(1, 3 * hsz, hsz).sigmoid();
            c = f.mul(c).add(i.mul(g));
            h = o.mul(c.tanh()).to(dt);
            hs[t] = h;
        }
        return new Tensor[] {Tensor.stack(0, hs), c};
    }

    /**
     * The op and the composed chain compute the same pre-activations bit for bit and differ only in
     * the evaluation of sigmoid and tanh (FP32 FloatMath against double rounded once), so each is
     * within the reference's bound of the exact values (which covers both evaluations) and they are
     * within twice that of each other (the factor 2 of the test below, for second-order terms, doubled).
     */
    @Test
    void forwardMatchesTheComposedOpsWithinTheActivationBounds() {
        int t = 7;
        int b = 3;
        int in = 5;
        int h = 6;
        for (DType dt : DType.values()) {
            Inputs x = Inputs.random(1, dt, t, b, in, h);
            LstmOp.Result r = x.run();
            Tensor[] want = composed(x);
            var ref = new LstmReference(t, b, in, h, d(x.x), d(x.h0), d(x.c0), d(x.wIh), d(x.wHh), d(x.bIh),
                    d(x.bHh), new double[t * b * h], new double[b * h], Ref.unitRoundoff(dt), Ref.absFloor(dt));
            within(dt + " output vs composed", d(want[0]), ref.outErr, 4, r.output());
            within(dt + " last cell vs composed", d(want[1]), ref.cLastErr, 4, r.lastCell());
            assertArrayEquals(r.output().select(0, t - 1).toFloatArray(), r.lastHidden().toFloatArray(),
                    dt + " last h");
            assertTrue(r.output().dtype() == dt && r.lastCell().dtype() == DType.FP32);
        }
    }

    @Test
    void forwardAndBackwardMatchTheDoubleReferenceWithinDerivedBounds() {
        int t = 6;
        int b = 3;
        int in = 5;
        int h = 4;
        for (DType dt : DType.values()) {
            Inputs x = Inputs.random(2, dt, t, b, in, h).withGrad();
            var rng = new SplittableRandom(3);
            // upstream weights representable in dt, so the walk's rounding of the output gradient is exact
            Tensor wOut = Tensor.randn(rng, DType.FP32, t, b, h).to(dt).to(DType.FP32);
            Tensor wC = Tensor.randn(rng, DType.FP32, b, h);
            LstmOp.Result r = x.run();
            r.output().to(DType.FP32).mul(wOut).sum().add(r.lastCell().mul(wC).sum()).backward();

            double u = Ref.unitRoundoff(dt);
            var ref = new LstmReference(t, b, in, h, d(x.x), d(x.h0), d(x.c0), d(x.wIh), d(x.wHh), d(x.bIh),
                    d(x.bHh), d(wOut), d(wC), u, Ref.absFloor(dt));
            within(dt + " output", ref.out, ref.outErr, 2, r.output());
            within(dt + " last cell", ref.cLast, ref.cLastErr, 2, r.lastCell());

            // forward depth: both dot products and ~12 gate/cell roundings per step; backward depth: the
            // recurrent product (4H terms), ~12 gate-derivative roundings per step, and a dot product
            // over all T*B rows for the weight gradients
            // (a chain passes at most two FP32 activations per step, a gate's and tanh(c), each now
            // ACT = 6.25 u32 instead of one rounding: 11 more per step)
            int n32 = t * (in + h + 12) + t * (4 * h + 12 + 11) + t * b + 4 * h + in + h;
            int n16 = dt == DType.FP32 ? 0 : t * 7 + 2;
            double rel = n32 * Ref.U32 + n16 * u;
            String[] names = {"x", "h0", "c0", "wIh", "wHh", "bIh"};
            Tensor[] leaves = {x.x, x.h0, x.c0, x.wIh, x.wHh, x.bIh};
            for (int k = 0; k < names.length; k++) {
                double[] bound = new double[ref.mag[k].length];
                for (int i = 0; i < bound.length; i++) {
                    bound[i] = rel * ref.mag[k][i] + 4 * Ref.absFloor(dt);
                }
                within(dt + " grad " + names[k], ref.grads[k], bound, 2, leaves[k].grad());
            }
            assertArrayEquals(x.bIh.grad().toFloatArray(), x.bHh.grad().toFloatArray(), dt + " bias grads");
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Inputs in = Inputs.random(4, DType.FP32, 4, 2, 3, 3);
        GradCheck.assertGradients(a -> LstmOp.forward(a[0], a[1], a[2], a[3], a[4], a[5], a[6]).output(), in.all());
        GradCheck.assertGradients(a -> LstmOp.forward(a[0], a[1], a[2], a[3], a[4], a[5], a[6]).lastCell(), in.all());
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        int before = Parallel.threads();
        try {
            for (DType dt : new DType[] {DType.FP32, DType.FP16}) {
                // large enough that the GEMMs and the gate loops split: T*B*4H*in = 4M, B = 32 rows
                float[][] one = runAll(dt, 1);
                float[][] three = runAll(dt, 3);
                for (int k = 0; k < one.length; k++) {
                    assertArrayEquals(one[k], three[k], dt + " result " + k);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static float[][] runAll(DType dt, int threads) {
        Parallel.setThreads(threads);
        Inputs in = Inputs.random(5, dt, 8, 32, 64, 64).withGrad();
        LstmOp.Result r = in.run();
        Tensor w = Tensor.randn(new SplittableRandom(6), DType.FP32, 8, 32, 64);
        r.output().to(DType.FP32).mul(w).sum().add(r.lastCell().sum()).backward();
        return new float[][] {r.output().toFloatArray(), r.lastCell().toFloatArray(), in.x.grad().toFloatArray(),
                in.h0.grad().toFloatArray(), in.c0.grad().toFloatArray(), in.wIh.grad().toFloatArray(),
                in.wHh.grad().toFloatArray(), in.bIh.grad().toFloatArray()};
    }

    @Test
    void badInputsAreRefusedWithMessages() {
        Inputs in = Inputs.random(7, DType.FP32, 2, 2, 3, 4);
        message(NullPointerException.class, "'x' is null",
                () -> LstmOp.forward(null, in.h0, in.c0, in.wIh, in.wHh, in.bIh, in.bHh));
        message(NullPointerException.class, "'bHh' is null",
                () -> LstmOp.forward(in.x, in.h0, in.c0, in.wIh, in.wHh, in.bIh, null));
        message(IllegalArgumentException.class, "'x' must be [T, B, in]",
                () -> LstmOp.forward(in.x.select(0, 0), in.h0, in.c0, in.wIh, in.wHh, in.bIh, in.bHh));
        message(IllegalArgumentException.class, "'x' must be [T, B, in]",
                () -> LstmOp.forward(in.x.narrow(0, 0, 0), in.h0, in.c0, in.wIh, in.wHh, in.bIh, in.bHh));
        message(IllegalArgumentException.class, "'wHh' must be [4H, H]",
                () -> LstmOp.forward(in.x, in.h0, in.c0, in.wIh, in.wIh, in.bIh, in.bHh));
        message(IllegalArgumentException.class, "'wIh' must have shape [16, 3], got [16, 4]",
                () -> LstmOp.forward(in.x, in.h0, in.c0, in.wHh, in.wHh, in.bIh, in.bHh));
        message(IllegalArgumentException.class, "'h0' must have shape [2, 4], got [3, 4]",
                () -> LstmOp.forward(in.x, Tensor.zeros(3, 4), in.c0, in.wIh, in.wHh, in.bIh, in.bHh));
        message(IllegalArgumentException.class, "'bIh' must have shape [16]",
                () -> LstmOp.forward(in.x, in.h0, in.c0, in.wIh, in.wHh, Tensor.zeros(4), in.bHh));
        message(IllegalArgumentException.class, "'wHh' must be FP32, got FP16",
                () -> LstmOp.forward(in.x, in.h0, in.c0, in.wIh, in.wHh.to(DType.FP16), in.bIh, in.bHh));
        Inputs half = Inputs.random(7, DType.FP16, 2, 2, 3, 4);
        message(IllegalArgumentException.class, "'c0' must be FP32, got FP16",
                () -> LstmOp.forward(half.x, half.h0, half.c0.to(DType.FP16), half.wIh, half.wHh, half.bIh, half.bHh));
    }

    private static void message(Class<? extends RuntimeException> type, String part, Runnable r) {
        RuntimeException e = assertThrows(type, r::run);
        assertTrue(e.getMessage().contains(part) && e.getMessage().startsWith("lstm: "), e.getMessage());
    }

    private static double[] d(Tensor t) {
        return Ref.toDouble(t.toFloatArray());
    }

    /** |got - want| <= factor * bound, element-wise; factor covers the neglected second-order terms. */
    private static void within(String what, double[] want, double[] bound, double factor, Tensor got) {
        float[] g = got.toFloatArray();
        assertTrue(g.length == want.length, what + ": length");
        for (int i = 0; i < g.length; i++) {
            double err = Math.abs(g[i] - want[i]);
            if (!(err <= factor * bound[i])) {
                throw new AssertionError(what + "[" + i + "]: got " + g[i] + ", want " + want[i] + ", error " + err
                        + " > " + factor + " * " + bound[i]);
            }
        }
    }
}
