package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AutogradTest {

    @Test
    void gradientsAccumulateOverBackwardCalls() {
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(true);
        x.mul(x).sum().backward();
        assertArrayEquals(new float[] {2, 4, 6}, x.grad().toFloatArray());
        Tensor firstGrad = x.grad();
        x.mul(3f).sum().backward();
        assertArrayEquals(new float[] {5, 7, 9}, x.grad().toFloatArray());
        assertSame(firstGrad, x.grad(), "accumulation writes into the existing gradient tensor");
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void inputUsedTwiceGetsSummedGradient() {
        Tensor x = Tensor.of(new float[] {2}, 1).requiresGrad(true);
        Tensor y = x.mul(x).add(x); // dy/dx = 2x + 1
        y.backward(Tensor.ones(1));
        assertEquals(5f, x.grad().item());
    }

    @Test
    void sharedGradientsAreNeverUpdatedInPlace() {
        // add hands the same gradient to both inputs; rounding an FP16 node's gradient and
        // accumulating must copy it, and the caller's seed must stay untouched
        Tensor x = Tensor.ones(2).requiresGrad(true);
        Tensor h = x.to(DType.FP16);
        Tensor y = h.add(h).to(DType.FP32).add(x);
        float[] seedValues = {1f + 0x1p-12f, 3f};
        Tensor seed = Tensor.of(seedValues, 2);
        y.backward(seed);
        assertArrayEquals(seedValues, seed.toFloatArray(), "seed unchanged");
        // through h: 2 * fp16(seed) = {2, 6}; directly: seed
        assertArrayEquals(new float[] {2f + 1f + 0x1p-12f, 6f + 3f}, x.grad().toFloatArray());
    }

    @Test
    void detachCutsTheGraphAndSharesStorage() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor d = x.detach();
        assertFalse(d.requiresGrad());
        assertTrue(d.isLeaf());
        d.fill_(5f);
        assertEquals(5f, x.get(0), "detach shares storage");
        Tensor y = x.mul(x.detach()).sum(); // gradient only through the first factor
        y.backward();
        assertArrayEquals(new float[] {5, 5}, x.grad().toFloatArray());
    }

    @Test
    void noGradScopeStopsRecordingAndNests() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        assertTrue(NoGrad.isGradEnabled());
        try (NoGrad _ = NoGrad.enter()) {
            try (NoGrad _ = NoGrad.enter()) {
                assertFalse(x.mul(2f).requiresGrad());
            }
            assertFalse(NoGrad.isGradEnabled(), "outer scope still open");
            assertFalse(x.exp().requiresGrad());
        }
        assertTrue(NoGrad.isGradEnabled());
        assertTrue(x.exp().requiresGrad());
    }

    @Test
    void noGradIsThreadConfined() throws InterruptedException {
        AtomicBoolean otherThreadRecords = new AtomicBoolean();
        try (NoGrad _ = NoGrad.enter()) {
            Thread t = new Thread(() -> otherThreadRecords.set(
                    NoGrad.isGradEnabled() && Tensor.ones(1).requiresGrad(true).exp().requiresGrad()));
            t.start();
            t.join();
        }
        assertTrue(otherThreadRecords.get());
    }

    @Test
    void noGradMisuseIsReported() throws InterruptedException {
        NoGrad outer = NoGrad.enter();
        NoGrad inner = NoGrad.enter();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("reverse order"), e.getMessage());
        inner.close();
        Throwable[] fromOther = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                outer.close();
            } catch (IllegalStateException ex) {
                fromOther[0] = ex;
            }
        });
        t.start();
        t.join();
        assertTrue(fromOther[0] != null && fromOther[0].getMessage().contains("thread"));
        outer.close();
        outer.close(); // second close is a no-op
        assertTrue(NoGrad.isGradEnabled());
    }

    @Test
    void graphIsReleasedAfterBackwardUnlessRetained() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor y = x.exp().sum();
        y.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("retainGraph"), e.getMessage());

        Tensor z = x.mul(2f).sum();
        x.zeroGrad();
        z.backward(Tensor.scalar(1f), true);
        z.backward(Tensor.scalar(1f), true);
        assertArrayEquals(new float[] {4, 4}, x.grad().toFloatArray());
    }

    @Test
    void deepGraphDoesNotOverflowTheStack() {
        Tensor x = Tensor.scalar(0f).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 50_000; i++) {
            y = y.add(1f);
        }
        y.mul(3f).backward();
        assertEquals(3f, x.grad().item());
        assertEquals(50_000f, y.item());
    }

    @Test
    void backwardArgumentsAreChecked() {
        Tensor x = Tensor.ones(2, 2).requiresGrad(true);
        IllegalStateException notScalar = assertThrows(IllegalStateException.class, () -> x.mul(2f).backward());
        assertTrue(notScalar.getMessage().contains("[2, 2]"), notScalar.getMessage());
        IllegalArgumentException badSeed = assertThrows(IllegalArgumentException.class,
                () -> x.mul(2f).backward(Tensor.ones(3)));
        assertTrue(badSeed.getMessage().contains("seed shape [3]"), badSeed.getMessage());
        assertThrows(IllegalStateException.class, () -> Tensor.ones(1).exp().backward());
        assertThrows(NullPointerException.class, () -> x.sum().backward(null));
    }

    @Test
    void onlyLeavesCanBeMarkedAndRecordedTensorsRefuseInPlaceWrites() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        Tensor y = x.exp();
        assertFalse(y.isLeaf());
        assertThrows(IllegalStateException.class, () -> y.requiresGrad(false));
        IllegalStateException e = assertThrows(IllegalStateException.class, y::zero_);
        assertTrue(e.getMessage().contains("exp"), e.getMessage());
        try (NoGrad _ = NoGrad.enter()) {
            y.zero_();
        }
        assertEquals(0f, y.get(0));
        x.fill_(2f); // leaves may be updated in place (optimizer steps)
        assertEquals(2f, x.get(1));
    }

    @Test
    void fp16LeafGetsFp16GradientRoundedOnce() {
        // existing FP16 gradient 1, incoming FP32 gradient 2^-11 + 2^-22: the FP32 sum is exact and
        // one rounding gives 1 + 2^-10; rounding the increment to FP16 first would give 2^-11 (a
        // tie, to even) and then 1 + 2^-11, again a tie, to 1.
        Tensor x = Tensor.ones(DType.FP16, 1).requiresGrad(true);
        x.setGrad(Tensor.ones(DType.FP16, 1));
        float inc = (float) (Math.scalb(1.0, -11) + Math.scalb(1.0, -22));
        x.to(DType.FP32).mul(inc).sum().backward();
        assertEquals(DType.FP16, x.grad().dtype());
        assertEquals(1f + Math.scalb(1f, -10), x.grad().item());
    }

    @Test
    void fp16ActivationGradientUnderflowsLikeThePaperSays() {
        // the gradient reaching the FP16 activation is 1e-8 < 2^-25 (half the smallest FP16
        // subnormal), so it rounds to 0 in FP16; scaled by 2^10 it survives (loss scaling)
        Tensor w = Tensor.ones(1).requiresGrad(true);
        w.to(DType.FP16).to(DType.FP32).mul(1e-8f).sum().backward();
        assertEquals(0f, w.grad().item());
        w.zeroGrad();
        w.to(DType.FP16).to(DType.FP32).mul(1e-8f).sum().mul(1024f).backward();
        float unscaled = w.grad().item() / 1024f;
        assertEquals(1e-8, unscaled, 1e-8 * 0.05, "survives with ~2^-11 relative error of FP16 rounding");
        assertTrue(unscaled != 0f);
    }

    @Test
    void comparisonsAndArgmaxAreNotRecorded() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        assertFalse(x.gt(Tensor.zeros(2)).requiresGrad());
        assertFalse(x.argmax(0, false).requiresGrad());
    }

    /**
     * Point-wise rules write their gradient over an incoming gradient only when the walk owns it:
     * never over the caller's seed, nor over a gradient that an add hands to both of its inputs;
     * where they do (the product's fresh gradient below), the values are those of the rule.
     */
    @Test
    void pointwiseRulesOverwriteOnlyGradientsTheWalkOwns() {
        for (DType dtype : new DType[] {DType.FP32, DType.FP16}) {
            float[] xv = {-2f, -0.5f, 0f, 0.5f, 2f, 3f};
            float[] sv = {1f, 2f, 3f, 4f, 5f, 6f};
            Tensor a = Tensor.of(xv, 2, 3).to(dtype).requiresGrad(true);
            Tensor b = Tensor.of(xv, 2, 3).neg().to(dtype).requiresGrad(true);
            Tensor seed = Tensor.of(sv.clone(), 2, 3).to(dtype);
            a.relu().add(b.relu()).backward(seed);               // add passes one gradient to both relus
            assertArrayEquals(Tensor.of(sv, 2, 3).to(dtype).toFloatArray(), seed.toFloatArray(), dtype + " seed");
            for (int i = 0; i < xv.length; i++) {
                assertEquals(xv[i] > 0 ? sv[i] : 0f, a.grad().toFloatArray()[i], dtype + " a " + i);
                assertEquals(-xv[i] > 0 ? sv[i] : 0f, b.grad().toFloatArray()[i], dtype + " b " + i);
            }
            // relu(x * 3): the product's rule gives the relu a gradient of its own, which it reuses
            Tensor x = Tensor.of(xv, 2, 3).to(dtype).requiresGrad(true);
            Tensor y = x.mul(3f).relu().mul(Tensor.of(sv, 2, 3).to(dtype));
            Tensor s2 = Tensor.ones(2, 3).to(dtype);
            y.backward(s2);
            for (int i = 0; i < xv.length; i++) {
                assertEquals(xv[i] > 0 ? 3f * sv[i] : 0f, x.grad().toFloatArray()[i], dtype + " x " + i);
            }
            assertArrayEquals(Tensor.ones(6).toFloatArray(), s2.toFloatArray(), dtype + " seed of the product");
        }
    }
}
