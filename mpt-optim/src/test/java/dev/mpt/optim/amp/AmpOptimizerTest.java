package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.SgdRule;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.scaling.ScaleDecision;
import dev.mpt.optim.schedule.LearningRateSchedule;
import dev.mpt.optim.train.OptimizerCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class AmpOptimizerTest {

    private static final int IN = 8;
    private static final int CLASSES = 3;

    /** A fixed batch of 16 samples. */
    private static Tensor x(long seed) {
        var rng = new SplittableRandom(seed);
        float[] v = new float[16 * IN];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return Tensor.of(v, 16, IN);
    }

    private static int[] y(long seed) {
        var rng = new SplittableRandom(seed);
        int[] y = new int[16];
        for (int i = 0; i < y.length; i++) {
            y[i] = rng.nextInt(CLASSES);
        }
        return y;
    }

    private static Tensor loss(Module m, AmpOptimizer opt, long seed) {
        return Losses.crossEntropy(m.forward(x(seed).to(opt.precision().modelDtype())), y(seed));
    }

    private static StepOutcome iterate(Module m, AmpOptimizer opt, long seed) {
        opt.zeroGrad();
        opt.scale(loss(m, opt, seed)).backward();
        return opt.step();
    }

    private static List<int[]> snapshot(Module m, AmpOptimizer opt) {
        List<int[]> out = new ArrayList<>();
        MasterWeights mw = opt.masterWeights();
        for (var e : m.namedParameters().entrySet()) {
            out.add(TestModels.rawBits(e.getValue().value()));
            out.add(bits(mw.master(e.getKey())));
            for (String s : mw.optimizer().stateNames()) {
                out.add(bits(mw.state(e.getKey(), s)));
            }
        }
        return out;
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    private static void injectInf(Parameter p, int index) {
        Tensor g = p.grad();
        g.shortData()[g.storageOffset() + index] = (short) 0x7c00;
    }

    private static void assertSame(List<int[]> a, List<int[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "array " + i);
        }
    }

    @Test
    void skippedStepLeavesWeightsMastersStateAndScheduleUntouched() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 1);
        Optimizer sgd = new Sgd(LearningRateSchedule.stepDecay(0.1, 1, 0.5), SgdRule.of(0.9));
        AmpOptimizer opt = AmpOptimizer.builder(m, sgd).precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.dynamicBuilder().initialScale(1024).build()).build();
        assertFalse(iterate(m, opt, 1).skipped());
        assertFalse(iterate(m, opt, 2).skipped());
        List<int[]> before = snapshot(m, opt);
        double lr = opt.learningRate();
        assertEquals(0.025, lr);

        opt.zeroGrad();
        opt.scale(loss(m, opt, 3)).backward();
        injectInf(m.namedParameters().get("1.weight"), 3);
        StepOutcome o = opt.step();
        assertTrue(o.skipped());
        assertEquals(3, o.step());
        assertEquals(2, o.appliedSteps());
        assertEquals(1024, o.scale());
        assertEquals(512, o.nextScale());
        assertFalse(o.atMinimumScale());
        assertTrue(Double.isInfinite(o.gradNorm()) || Double.isNaN(o.gradNorm()));
        assertSame(before, snapshot(m, opt));
        assertEquals(lr, opt.learningRate(), "the schedule does not advance on a skipped step");
        assertEquals(2, opt.appliedSteps());
        assertEquals(1, opt.scaleHolder().scaler().state().skippedSteps());

        StepOutcome next = iterate(m, opt, 3);
        assertFalse(next.skipped());
        assertEquals(0.025, next.learningRate(), "the applied step uses the rate the skipped one would have");
        assertEquals(512, next.scale());
    }

    /**
     * The skip with Adam, whose update depends on its moments and on the step count (bias
     * correction): a step skipped for an overflow changes neither, so the run then continues bit
     * for bit as a twin run that never saw the bad batch. A fixed scale keeps both runs' scaled
     * gradients identical (a dynamic one would halve on the overflow).
     */
    @Test
    void skippedAdamStepLeavesMomentsAndStepCountUntouched() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 1);
        Module twin = TestModels.mlp(IN, 6, CLASSES, 1);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Adam(1e-2)).precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.fixed(1024)).build();
        AmpOptimizer twinOpt = AmpOptimizer.builder(twin, new Adam(1e-2)).precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.fixed(1024)).build();
        for (long seed = 1; seed <= 2; seed++) {
            assertFalse(iterate(m, opt, seed).skipped());
            assertFalse(iterate(twin, twinOpt, seed).skipped());
        }
        List<int[]> before = snapshot(m, opt);
        opt.zeroGrad();
        opt.scale(loss(m, opt, 3)).backward();
        injectInf(m.namedParameters().get("1.weight"), 3);
        assertTrue(opt.step().skipped());
        assertSame(before, snapshot(m, opt));
        assertEquals(2, opt.appliedSteps());

        assertFalse(iterate(m, opt, 3).skipped());
        assertFalse(iterate(twin, twinOpt, 3).skipped());
        assertSame(snapshot(twin, twinOpt), snapshot(m, opt));
    }

    /**
     * {@link MasterWeights#resyncFromModel()} after weights were loaded into the model behind the
     * optimizer's back: the masters become the exact widening of the new FP16 weights, and the
     * next step starts from them.
     */
    @Test
    void resyncFromModelReReadsTheMastersFromTheModel() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 1);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.1)).precision(Precision.MIXED_FP16).build();
        assertFalse(iterate(m, opt, 1).skipped());
        Module loaded = TestModels.mlp(IN, 6, CLASSES, 99).to(DType.FP16);
        for (var e : m.namedParameters().entrySet()) {
            e.getValue().value().copy_(loaded.namedParameters().get(e.getKey()).value());
        }
        opt.masterWeights().resyncFromModel();
        for (var e : m.namedParameters().entrySet()) {
            Tensor w = e.getValue().value();
            assertArrayEquals(w.toFloatArray(), opt.masterWeights().master(e.getKey()), e.getKey());
        }
        // SGD without momentum keeps no state: a fresh optimizer on the loaded weights is the twin
        AmpOptimizer fresh = AmpOptimizer.builder(loaded, new Sgd(0.1)).precision(Precision.MIXED_FP16).build();
        assertFalse(iterate(m, opt, 2).skipped());
        assertFalse(iterate(loaded, fresh, 2).skipped());
        assertSame(snapshot(loaded, fresh), snapshot(m, opt));
    }

    /**
     * One MIXED_FP16 step against the paper's Figure 1, element by element: the FP32 gradient is
     * the FP16 one divided by the power-of-two scale (exact), the master moves by
     * {@code -lr * g} in FP32 (two roundings, reproduced here), and the FP16 weight is the master
     * rounded to nearest even.
     */
    @Test
    void mixedStepUnscalesUpdatesMastersInFp32AndRoundsIntoFp16() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 2);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.1)).precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.fixed(1024)).build();
        Map<String, float[]> mastersBefore = new LinkedHashMap<>();
        for (String n : m.namedParameters().keySet()) {
            mastersBefore.put(n, opt.masterWeights().master(n));
        }
        opt.scale(loss(m, opt, 4)).backward();
        Map<String, short[]> grads = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> grads.put(n, p.grad().shortData().clone()));
        assertFalse(opt.step().skipped());
        for (var e : m.namedParameters().entrySet()) {
            String n = e.getKey();
            float[] g = opt.masterWeights().gradient(n);
            float[] before = mastersBefore.get(n);
            float[] after = opt.masterWeights().master(n);
            short[] w16 = e.getValue().value().shortData();
            for (int i = 0; i < g.length; i++) {
                float expectG = Float.float16ToFloat(grads.get(n)[i]) / 1024f;
                assertEquals(expectG, g[i], n + " gradient " + i);
                assertEquals(before[i] - 0.1f * expectG, after[i], n + " master " + i);
                assertEquals(Float.floatToFloat16(after[i]), w16[e.getValue().value().storageOffset() + i],
                        n + " fp16 weight " + i);
            }
        }
    }

    @Test
    void bf16MastersRoundIntoBf16Weights() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 3);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.1)).precision(Precision.MIXED_BF16).build();
        assertEquals(1, opt.lossScale());
        assertFalse(iterate(m, opt, 5).skipped());
        for (var e : m.namedParameters().entrySet()) {
            Tensor v = e.getValue().value();
            assertEquals(DType.BF16, v.dtype());
            float[] master = opt.masterWeights().master(e.getKey());
            short[] expect = new short[master.length];
            dev.mpt.core.kernel.Convert.floatToBFloat16(master, 0, expect, 0, master.length);
            for (int i = 0; i < master.length; i++) {
                assertEquals(expect[i], v.shortData()[v.storageOffset() + i], e.getKey() + " " + i);
            }
        }
    }

    @Test
    void scaleGrowsAfterTheGrowthIntervalOfCleanSteps() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 4);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.01)).precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.dynamicBuilder().initialScale(256).growthInterval(3).build()).build();
        assertEquals(256, iterate(m, opt, 1).nextScale());
        assertEquals(256, iterate(m, opt, 2).nextScale());
        StepOutcome third = iterate(m, opt, 3);
        assertEquals(256, third.scale());
        assertEquals(512, third.nextScale());
        assertEquals(512, opt.lossScale());
        assertEquals(512, iterate(m, opt, 4).scale());
    }

    @Test
    void overflowAtTheMinimumScaleIsFlaggedAndLogged() {
        Logger logger = (Logger) LoggerFactory.getLogger(LossScaler.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            Module m = TestModels.mlp(IN, 6, CLASSES, 5);
            AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.01)).precision(Precision.MIXED_FP16)
                    .lossScaler(LossScaler.fixed(8)).build();
            opt.scale(loss(m, opt, 1)).backward();
            injectInf(m.namedParameters().get("3.bias"), 0);
            StepOutcome o = opt.step();
            assertTrue(o.skipped());
            assertTrue(o.atMinimumScale());
            assertEquals(1, logs.list.size());
            assertTrue(logs.list.get(0).getFormattedMessage().contains("at its minimum"));
        } finally {
            logger.detachAppender(logs);
        }
    }

    /**
     * Gradient accumulation over two micro-batches with one scale. Autograd adds the second
     * backward's unrounded FP32 gradient {@code b} to the stored FP16 gradient {@code a16} and
     * rounds once, so with {@code b16 = fp16(b)} (what a separate backward stores):
     * {@code |acc - (a16 + b16)| <= |b - b16| + ulp(acc)/2 <= ulp(b16)/2 + ulp(acc)/2}, all in the
     * scaled domain; dividing by the power-of-two scale is exact.
     */
    @Test
    void gradientAccumulationAddsScaledMicroBatches() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 6);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.01)).precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.fixed(4096)).build();
        Map<String, float[]> ga = new LinkedHashMap<>();
        Map<String, float[]> gb = new LinkedHashMap<>();
        opt.scale(loss(m, opt, 7)).backward();
        m.namedParameters().forEach((n, p) -> ga.put(n, p.grad().toFloatArray()));
        opt.zeroGrad();
        opt.scale(loss(m, opt, 8)).backward();
        m.namedParameters().forEach((n, p) -> gb.put(n, p.grad().toFloatArray()));
        opt.zeroGrad();

        opt.scale(loss(m, opt, 7)).backward();
        opt.scale(loss(m, opt, 8)).backward();
        assertTrue(opt.unscale());
        for (String n : m.namedParameters().keySet()) {
            float[] g = opt.masterWeights().gradient(n);
            for (int i = 0; i < g.length; i++) {
                float a16 = ga.get(n)[i];
                float b16 = gb.get(n)[i];
                float acc = g[i] * 4096f;
                double bound = ulp16(b16) / 2 + ulp16(acc) / 2;
                assertEquals((double) a16 + b16, acc, bound, n + " " + i);
            }
        }
        assertFalse(opt.step().skipped());
    }

    /** The spacing of FP16 values at {@code x} (2^-24 among subnormals). */
    private static double ulp16(float x) {
        return Math.scalb(1.0, Math.max(Math.getExponent(x), -14) - 10);
    }

    @Test
    void clippingUsesTheUnscaledGlobalNorm() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 9);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.5)).precision(Precision.FP32).clipGradNorm(1e-3).build();
        opt.scale(loss(m, opt, 1)).backward();
        Map<String, float[]> g = new LinkedHashMap<>();
        Map<String, float[]> w = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> {
            g.put(n, p.grad().toFloatArray());
            w.put(n, p.value().toFloatArray());
        });
        StepOutcome o = opt.step();
        // Reference norm in double; the kernel's relative error is at most (n/2 + 1) * 2^-53.
        double sq = 0;
        int count = 0;
        for (float[] a : g.values()) {
            for (float v : a) {
                sq += (double) v * v;
                count++;
            }
        }
        double ref = Math.sqrt(sq);
        assertEquals(ref, o.gradNorm(), ref * (count / 2.0 + 2) * 0x1p-53);
        assertTrue(ref > 1e-2, "the test needs clipping to bite: norm " + ref);
        float c = (float) (1e-3 / (o.gradNorm() + 1e-6));
        for (var e : m.namedParameters().entrySet()) {
            float[] after = e.getValue().value().toFloatArray();
            float[] used = opt.masterWeights().gradient(e.getKey());
            for (int i = 0; i < after.length; i++) {
                float clipped = g.get(e.getKey())[i] * c;
                assertEquals(w.get(e.getKey())[i] - 0.5f * clipped, after[i], e.getKey() + " " + i);
                assertEquals(clipped, used[i], e.getKey() + " " + i);
            }
            // FP32 gradients at scale 1 are read in place, not copied: clipping must scale a private
            // copy and leave the tensor the user holds as backward left it
            assertArrayEquals(bits(g.get(e.getKey())), bits(e.getValue().grad().toFloatArray()), e.getKey());
        }
    }

    @Test
    void sharedScalingSkipsBothOptimizersWhenEitherOverflows() {
        Module a = TestModels.mlp(IN, 6, CLASSES, 10);
        Module b = TestModels.mlp(IN, 6, CLASSES, 11);
        ScaleHolder scaling = ScaleHolder.shared(LossScaler.dynamicBuilder().initialScale(1024).build());
        AmpOptimizer oa = AmpOptimizer.builder(a, new Sgd(0.1)).precision(Precision.MIXED_FP16).sharedScale(scaling).build();
        AmpOptimizer ob = AmpOptimizer.builder(b, new Sgd(0.1)).precision(Precision.MIXED_FP16).sharedScale(scaling).build();
        List<int[]> sa = snapshot(a, oa);
        List<int[]> sb = snapshot(b, ob);
        oa.scale(loss(a, oa, 1)).backward();
        ob.scale(loss(b, ob, 2)).backward();
        injectInf(a.namedParameters().get("1.bias"), 1);
        assertFalse(oa.unscale());
        assertTrue(ob.unscale());
        assertTrue(oa.step().skipped());
        StepOutcome o = ob.step();
        assertTrue(o.skipped(), "b's gradients were finite, but a's overflow skips it too");
        assertEquals(1024, o.nextScale(), "a shared scale changes only at update()");
        assertSame(sa, snapshot(a, oa));
        assertSame(sb, snapshot(b, ob));
        oa.zeroGrad();
        var e = assertThrows(IllegalStateException.class, () -> oa.scale(loss(a, oa, 1)));
        assertTrue(e.getMessage().contains("scaling.update()"), e.getMessage());
        ScaleDecision u = scaling.update();
        assertTrue(u.skipped());
        assertEquals(512, scaling.scale());
        ob.zeroGrad();
        oa.scale(loss(a, oa, 1)).backward();
        ob.scale(loss(b, ob, 2)).backward();
        assertFalse(oa.step().skipped());
        assertFalse(ob.step().skipped());
        assertFalse(scaling.update().skipped());
        var owned = assertThrows(IllegalStateException.class,
                () -> AmpOptimizer.builder(a, new Sgd(0.1)).precision(Precision.MIXED_FP16).build().scaleHolder().update());
        assertTrue(owned.getMessage().contains("belongs to one AmpOptimizer"), owned.getMessage());
    }

    /** The sequential GAN recipe of {@link ScaleHolder}'s documentation runs as written. */
    @Test
    void ganRecipeWithASharedScaleRuns() {
        Module gen = new Linear(2, IN, 1L);
        Module disc = new Sequential(new Linear(IN, 8, 2L), new ReLU(), new Linear(8, 1, 3L));
        ScaleHolder scaling = ScaleHolder.shared(LossScaler.dynamicBuilder().initialScale(1024).growthInterval(5).build());
        AmpOptimizer dOpt = AmpOptimizer.builder(disc, new Adam(1e-3)).precision(Precision.MIXED_FP16)
                .sharedScale(scaling).build();
        AmpOptimizer gOpt = AmpOptimizer.builder(gen, new Adam(1e-3)).precision(Precision.MIXED_FP16)
                .sharedScale(scaling).build();
        int[] genBefore = TestModels.rawBits(gen.namedParameters().get("weight").value());
        Tensor ones = Tensor.ones(16, 1);
        Tensor zeros = Tensor.zeros(16, 1);
        var rng = new SplittableRandom(5);
        for (int it = 0; it < 12; it++) {
            float[] zv = new float[16 * 2];
            for (int i = 0; i < zv.length; i++) {
                zv[i] = (float) rng.nextGaussian();
            }
            Tensor z = Tensor.of(zv, 16, 2).to(DType.FP16);
            Tensor real = x(it).to(DType.FP16);
            dOpt.zeroGrad();
            Tensor fake = gen.forward(z).detach();
            Tensor dLoss = Losses.bceWithLogits(disc.forward(real), ones)
                    .add(Losses.bceWithLogits(disc.forward(fake), zeros));
            dOpt.scale(dLoss).backward();
            assertFalse(dOpt.step().skipped());
            gOpt.zeroGrad();
            dOpt.zeroGrad();
            gOpt.scale(Losses.bceWithLogits(disc.forward(gen.forward(z)), ones)).backward();
            assertFalse(gOpt.step().skipped());
            assertFalse(scaling.update().skipped());
        }
        assertEquals(12, dOpt.appliedSteps());
        assertEquals(12, gOpt.appliedSteps());
        assertEquals(4096, scaling.scale(), "12 clean iterations at growth interval 5 double the scale twice");
        assertFalse(java.util.Arrays.equals(genBefore, TestModels.rawBits(gen.namedParameters().get("weight").value())));
    }

    @Test
    void gradientStatsArePerParameter() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 12);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.01)).precision(Precision.MIXED_FP16)
                .lossScaler(LossScaler.fixed(1024)).collectGradientStats(true).build();
        StepOutcome o = iterate(m, opt, 1);
        assertEquals(List.copyOf(m.namedParameters().keySet()), List.copyOf(o.gradientStats().keySet()));
        m.namedParameters().forEach((n, p) -> {
            GradientStats s = o.gradientStats().get(n);
            assertEquals(p.value().numel(), s.count(), n);
            assertEquals(1024, s.scale());
            assertEquals(0, s.fp16OverflowCount());
        });
        Module m2 = TestModels.mlp(IN, 6, CLASSES, 12);
        AmpOptimizer off = AmpOptimizer.builder(m2, new Sgd(0.01)).precision(Precision.MIXED_FP16).build();
        assertTrue(iterate(m2, off, 1).gradientStats().isEmpty(), "collection is off by default");
    }

    @Test
    void outOfOrderCallsSayWhatToDo() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 13);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.01)).precision(Precision.MIXED_FP16).build();
        var e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("call scale(loss).backward() before step()"), e.getMessage());
        e = assertThrows(IllegalStateException.class, opt::unscale);
        assertTrue(e.getMessage().contains("call scale(loss).backward() first"), e.getMessage());

        opt.scale(loss(m, opt, 1));                      // backward forgotten
        e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("no parameter has a gradient"), e.getMessage());

        opt.zeroGrad();
        opt.scale(loss(m, opt, 1)).backward();
        opt.step();
        e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("called twice"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> opt.scale(loss(m, opt, 1)));
        assertTrue(e.getMessage().contains("without zeroGrad()"), e.getMessage());
        e = assertThrows(IllegalStateException.class, opt::unscale);
        assertTrue(e.getMessage().contains("after step()"), e.getMessage());

        opt.zeroGrad();
        opt.scale(loss(m, opt, 1)).backward();
        opt.unscale();
        e = assertThrows(IllegalStateException.class, opt::unscale);
        assertTrue(e.getMessage().contains("called twice"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> opt.scale(loss(m, opt, 1)));
        assertTrue(e.getMessage().contains("after unscale()"), e.getMessage());
        opt.step();

        m.to(DType.FP32);                                 // parameters replaced behind the optimizer's back
        opt.zeroGrad();
        Tensor l = Losses.crossEntropy(m.forward(x(1)), y(1));
        opt.scale(l).backward();
        e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("was replaced"), e.getMessage());
    }

    @Test
    void badArgumentsAreRejected() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 14);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.01)).precision(Precision.MIXED_FP16).build();
        assertThrows(NullPointerException.class, () -> opt.scale(null));
        var e = assertThrows(IllegalArgumentException.class, () -> opt.scale(Tensor.zeros(2).requiresGrad(true)));
        assertTrue(e.getMessage().contains("one element"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> opt.scale(Tensor.scalar(1f)));
        assertTrue(e.getMessage().contains("does not require a gradient"), e.getMessage());

        assertThrows(NullPointerException.class, () -> AmpOptimizer.builder((Module) null, new Sgd(0.1)));
        assertThrows(NullPointerException.class, () -> AmpOptimizer.builder(m, null));
        e = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m, new Sgd(0.1))
                .lossScaler(LossScaler.dynamic()).sharedScale(ScaleHolder.shared(LossScaler.dynamic())).build());
        assertTrue(e.getMessage().contains("not both"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(TestModels.mlp(IN, 6, CLASSES, 1),
                new Sgd(0.1)).lossScaler(LossScaler.fixed(4)).build());
        assertTrue(e.getMessage().contains("precision FP32 does not scale the loss"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m, new Sgd(0.1)).clipGradNorm(-1));
        assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(Map.of(), new Sgd(0.1)).build());
        Module fp32 = TestModels.mlp(IN, 6, CLASSES, 1);
        e = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(fp32.namedParameters(), new Sgd(0.1))
                .precision(Precision.MIXED_FP16).build());
        assertTrue(e.getMessage().contains("needs FP16") && e.getMessage().contains("model.to"), e.getMessage());
        fp32.to(DType.FP16);
        assertEquals(4, AmpOptimizer.builder(fp32.namedParameters(), new Sgd(0.1)).precision(Precision.MIXED_FP16)
                .build().masterWeights().names().size());
        assertThrows(IllegalArgumentException.class, () -> opt.masterWeights().master("nope"));
        assertTrue(opt.toString().contains("MIXED_FP16") && opt.toString().contains("Sgd[lr=0.01"), opt.toString());
    }

    /**
     * Two optimizers (a GAN's) save into one safetensors file under their own prefixes; fresh
     * optimizers over fresh models restore it and then take the same next step bit for bit.
     */
    @Test
    void twoOptimizersCheckpointUnderPrefixesAndResumeIdentically(@TempDir Path dir) throws IOException {
        Module g1 = TestModels.mlp(IN, 6, CLASSES, 20);
        Module d1 = TestModels.mlp(IN, 5, CLASSES, 21);
        AmpOptimizer go1 = AmpOptimizer.builder(g1, new Adam(1e-2)).precision(Precision.MIXED_FP16).build();
        AmpOptimizer do1 = AmpOptimizer.builder(d1, new Sgd(0.1, 0.9)).precision(Precision.MIXED_FP16).build();
        for (int i = 0; i < 3; i++) {
            iterate(g1, go1, i);
            iterate(d1, do1, 10 + i);
        }
        List<NamedTensor> tensors = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        g1.namedParameters().forEach((n, p) -> tensors.add(NamedTensor.ofBits("g.model." + n, DType.FP16, p.shape(),
                p.value().shortData().clone())));
        d1.namedParameters().forEach((n, p) -> tensors.add(NamedTensor.ofBits("d.model." + n, DType.FP16, p.shape(),
                p.value().shortData().clone())));
        OptimizerCheckpoint.write("g.", go1, tensors, meta);
        OptimizerCheckpoint.write("d.", do1, tensors, meta);
        Path file = dir.resolve("gan.safetensors");
        Safetensors.write(file, tensors, meta);

        Module g2 = TestModels.mlp(IN, 6, CLASSES, 30);
        Module d2 = TestModels.mlp(IN, 5, CLASSES, 31);
        AmpOptimizer go2 = AmpOptimizer.builder(g2, new Adam(1e-2)).precision(Precision.MIXED_FP16).build();
        AmpOptimizer do2 = AmpOptimizer.builder(d2, new Sgd(0.1, 0.9)).precision(Precision.MIXED_FP16).build();
        SafetensorsFile f = Safetensors.read(file);
        g2.namedParameters().forEach((n, p) -> System.arraycopy(f.tensor("g.model." + n).bits(), 0,
                p.value().shortData(), p.value().storageOffset(), p.value().numel()));
        d2.namedParameters().forEach((n, p) -> System.arraycopy(f.tensor("d.model." + n).bits(), 0,
                p.value().shortData(), p.value().storageOffset(), p.value().numel()));
        OptimizerCheckpoint.read("g.", f, go2);
        OptimizerCheckpoint.read("d.", f, do2);
        assertEquals(3, go2.appliedSteps());
        assertEquals(go1.scaleHolder().scaler(), go2.scaleHolder().scaler());

        iterate(g1, go1, 7);
        iterate(g2, go2, 7);
        iterate(d1, do1, 8);
        iterate(d2, do2, 8);
        assertSame(snapshot(g1, go1), snapshot(g2, go2));
        assertSame(snapshot(d1, do1), snapshot(d2, do2));

        var e = assertThrows(IllegalArgumentException.class, () -> OptimizerCheckpoint.read("g.", f,
                AmpOptimizer.builder(TestModels.mlp(IN, 6, CLASSES, 1), new Adam(1e-2)).precision(Precision.MIXED_BF16)
                        .build()));
        assertTrue(e.getMessage().contains("precision MIXED_FP16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimizerCheckpoint.read("x.", f, go2));
        assertTrue(e.getMessage().contains("x.precision"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimizerCheckpoint.read("g.", f,
                AmpOptimizer.builder(TestModels.mlp(IN, 6, CLASSES, 1), new Sgd(0.1, 0.9)).precision(Precision.MIXED_FP16)
                        .build()));
        assertTrue(e.getMessage().contains("momentum"), e.getMessage());
    }

    @Test
    void masterWeightsValidateTheirArguments() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 1);
        assertThrows(NullPointerException.class, () -> MasterWeights.create(null, true, new Sgd(0.1)));
        assertThrows(NullPointerException.class, () -> MasterWeights.create(m.namedParameters(), true, null));
        assertThrows(IllegalArgumentException.class, () -> MasterWeights.create(Map.of(), true, new Sgd(0.1)));
        MasterWeights mw = MasterWeights.create(m.namedParameters(), true, new Sgd(0.1, 0.9));
        var e = assertThrows(IllegalArgumentException.class, () -> mw.state("1.weight", "exp_avg"));
        assertTrue(e.getMessage().contains("has no state 'exp_avg'"), e.getMessage());
        assertArrayEquals(m.namedParameters().get("1.weight").value().toFloatArray(), mw.master("1.weight"),
                "an FP32 parameter is its own master");
    }

    /** At a fixed scale of 1 the wrapper is a plain optimizer: loss.backward(), step(), zeroGrad(). */
    @Test
    void unscaledPrecisionsAcceptAPlainBackward() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 16);
        AmpOptimizer opt = AmpOptimizer.builder(m.parameters(), new Sgd(0.1)).build();
        float[] before = m.namedParameters().get("1.weight").value().toFloatArray();
        Losses.crossEntropy(m.forward(x(1)), y(1)).backward();
        float[] g = m.namedParameters().get("1.weight").grad().toFloatArray();
        StepOutcome o = opt.step();
        assertFalse(o.skipped());
        assertEquals(1, o.scale());
        float[] after = m.namedParameters().get("1.weight").value().toFloatArray();
        for (int i = 0; i < after.length; i++) {
            assertEquals(before[i] - 0.1f * g[i], after[i], "weight " + i);
        }
        assertEquals(List.of("0", "1", "2", "3"), opt.masterWeights().names());
        var e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("called twice"), e.getMessage());
        opt.zeroGrad();
        e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("no parameter has a gradient"), e.getMessage());

        Module h = TestModels.mlp(IN, 6, CLASSES, 17);
        AmpOptimizer scaled = AmpOptimizer.builder(h, new Sgd(0.1)).precision(Precision.MIXED_FP16).build();
        Losses.crossEntropy(h.forward(x(1).to(DType.FP16)), y(1)).backward();
        e = assertThrows(IllegalStateException.class, scaled::step);
        assertTrue(e.getMessage().contains("call scale(loss).backward() before step()"), e.getMessage());
    }

    @Test
    void noMasterAblationHasNoMasters() {
        Module m = TestModels.mlp(IN, 6, CLASSES, 15);
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(0.01)).precision(Precision.FP16_NO_MASTER).build();
        assertFalse(opt.masterWeights().keepsMasters());
        assertEquals(0x1p16, opt.lossScale());
        var e = assertThrows(IllegalArgumentException.class, () -> opt.masterWeights().master("1.weight"));
        assertTrue(e.getMessage().contains("no FP32 master"), e.getMessage());
    }
}
