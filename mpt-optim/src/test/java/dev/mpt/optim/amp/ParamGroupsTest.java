package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.AdamW;
import dev.mpt.optim.GradientClipping;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.SgdRule;
import dev.mpt.optim.schedule.LearningRateSchedule;
import dev.mpt.optim.train.OptimizerCheckpoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Parameter groups of one {@link AmpOptimizer}: per-group hyper-parameters, with one scale, one
 * overflow decision, one global norm and one state over all groups.
 */
class ParamGroupsTest {

    private static final int IN = 6;
    private static final int HIDDEN = 5;
    private static final int CLASSES = 3;
    private static final int BATCH = 8;

    private static Sequential model() {
        return TestModels.mlp(IN, HIDDEN, CLASSES, 11);
    }

    /** The model's parameters whose names pass {@code keep}. */
    private static Map<String, Parameter> select(Module m, Predicate<String> keep) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> {
            if (keep.test(n)) {
                out.put(n, p);
            }
        });
        return out;
    }

    private static StepOutcome iterate(Module m, AmpOptimizer opt, long seed) {
        var rng = new SplittableRandom(seed);
        Tensor x = TestModels.gaussian(rng, BATCH, IN).to(opt.precision().modelDtype());
        opt.zeroGrad();
        opt.scale(Losses.crossEntropy(m.forward(x), TestModels.labels(rng, BATCH, CLASSES))).backward();
        return opt.step();
    }

    /** Raw bits of every weight, master and state array, parameter by parameter. */
    private static List<int[]> bits(Module m, AmpOptimizer opt) {
        List<int[]> out = new ArrayList<>();
        MasterWeights mw = opt.masterWeights();
        for (var e : m.namedParameters().entrySet()) {
            out.add(TestModels.rawBits(e.getValue().value()));
            out.add(floatBits(mw.master(e.getKey())));
            for (String s : mw.optimizer().stateNames()) {
                out.add(floatBits(mw.state(e.getKey(), s)));
            }
        }
        return out;
    }

    private static int[] floatBits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    private static void assertSameBits(List<int[]> a, List<int[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "array " + i);
        }
    }

    /**
     * Runs {@code steps} steps of a fresh model in MIXED_FP16 with clipping at a norm the gradients
     * exceed (so the clip coefficient is below 1 and every group's gradients are scaled), with the
     * optimizer {@code configure} builds; returns the bits and the outcomes' norms.
     */
    private static List<int[]> run(Function<Module, AmpOptimizer.Builder> configure, List<Double> norms) {
        Sequential m = model();
        AmpOptimizer opt = configure.apply(m).precision(Precision.MIXED_FP16).clipGradNorm(0.05).build();
        for (int s = 0; s < 4; s++) {
            StepOutcome o = iterate(m, opt, 100 + s);
            assertFalse(o.skipped(), "no step may skip here");
            assertTrue(o.gradNorm() > 0.05, "the clipping must be active: " + o.gradNorm());
            norms.add(o.gradNorm());
        }
        return bits(m, opt);
    }

    @Test
    void groupsWithEqualOptimizersStepBitForBitAsOneGroupWithClipping() {
        Optimizer adam = new Adam(1e-2);
        List<Double> plainNorms = new ArrayList<>();
        List<int[]> plain = run(m -> AmpOptimizer.builder(m, adam), plainNorms);
        // one explicit group holding every parameter
        List<Double> oneNorms = new ArrayList<>();
        List<int[]> one = run(m -> AmpOptimizer.builder(m).group("all", m.namedParameters(), adam), oneNorms);
        // interleaved membership (weights in one group, biases in the other): the norm still sums in
        // the model's parameter order, so the clip coefficient and every update keep their bits
        List<Double> splitNorms = new ArrayList<>();
        List<int[]> split = run(m -> AmpOptimizer.builder(m, adam)
                .group("bias", select(m, n -> n.endsWith("bias")), adam), splitNorms);
        assertSameBits(plain, one);
        assertSameBits(plain, split);
        assertEquals(plainNorms, oneNorms);
        assertEquals(plainNorms, splitNorms);
    }

    /**
     * Two groups with SGD at different rates (FP32, no momentum), clipped by one global norm: each
     * parameter becomes {@code p - lr_g * (g * c)} with {@code c = maxNorm / (norm + 1e-6)} over
     * all groups' gradients. Reference in double from the same unscaled gradients. Bound per
     * element: the FP32 path rounds {@code c} to FP32, {@code g * c}, {@code lr * (g c)} and the
     * subtraction, each with relative error at most u = 2^-24, and {@code lr} itself is rounded to
     * FP32 (u); so |error| <= u |p'| + 4u |lr c g| (first order), with {@code norm} exact to
     * a few ulps of double, far below. Checked with 2u |p'| + 8u |lr c g| for margin.
     */
    @Test
    void oneGlobalNormClipsEveryGroupAndEachGroupKeepsItsRate() {
        Sequential m = model();
        Map<String, Parameter> biases = select(m, n -> n.endsWith("bias"));
        double lrW = 0.3;
        double lrB = 0.05;
        double maxNorm = 0.05;
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(lrW)).group("bias", biases, new Sgd(lrB))
                .clipGradNorm(maxNorm).build();
        var rng = new SplittableRandom(3);
        Tensor x = TestModels.gaussian(rng, BATCH, IN);
        opt.zeroGrad();
        opt.scale(Losses.crossEntropy(m.forward(x), TestModels.labels(rng, BATCH, CLASSES))).backward();
        assertTrue(opt.unscale());
        Map<String, float[]> before = new LinkedHashMap<>();
        Map<String, float[]> grads = new LinkedHashMap<>();
        double sumSq = 0;
        for (var e : m.namedParameters().entrySet()) {
            before.put(e.getKey(), e.getValue().value().toFloatArray());
            float[] g = opt.masterWeights().gradient(e.getKey());
            grads.put(e.getKey(), g);
            for (float v : g) {
                sumSq += (double) v * v;
            }
        }
        StepOutcome o = opt.step();
        double norm = Math.sqrt(sumSq);
        // the norm: FP32 squares summed in double in another order, relative error ~ n * 2^-53
        assertEquals(norm, o.gradNorm(), norm * 1e-12, "one norm over both groups");
        double c = maxNorm / (norm + GradientClipping.EPS);
        assertTrue(c < 1, "the clip must be active: c = " + c);
        assertEquals(lrW, o.learningRate(), "the outcome reports the first (default) group's rate");
        double u = Math.ulp(1f) / 2;
        for (var e : m.namedParameters().entrySet()) {
            double lr = biases.containsKey(e.getKey()) ? lrB : lrW;
            float[] p0 = before.get(e.getKey());
            float[] g = grads.get(e.getKey());
            float[] p1 = e.getValue().value().toFloatArray();
            for (int i = 0; i < p1.length; i++) {
                double step = lr * c * g[i];
                double want = p0[i] - step;
                double bound = 2 * u * Math.abs(want) + 8 * u * Math.abs(step) + Double.MIN_VALUE;
                assertEquals(want, p1[i], bound, e.getKey() + "[" + i + "]");
            }
        }
    }

    @Test
    void anOverflowInOneGroupSkipsEveryGroup() {
        Sequential m = model();
        Map<String, Parameter> biases = select(m, n -> n.endsWith("bias"));
        AmpOptimizer opt = AmpOptimizer.builder(m, new AdamW(1e-2)).group("bias", biases, new AdamW(1e-2, 0.9, 0.999,
                1e-8, 0)).precision(Precision.MIXED_FP16).build();
        iterate(m, opt, 1);
        List<int[]> before = bits(m, opt);
        double scale = opt.lossScale();
        var rng = new SplittableRandom(2);
        Tensor x = TestModels.gaussian(rng, BATCH, IN).to(opt.precision().modelDtype());
        opt.zeroGrad();
        opt.scale(Losses.crossEntropy(m.forward(x), TestModels.labels(rng, BATCH, CLASSES))).backward();
        Tensor g = biases.values().iterator().next().grad();         // an inf in the bias group only
        g.shortData()[g.storageOffset()] = (short) 0x7c00;
        StepOutcome o = opt.step();
        assertTrue(o.skipped());
        assertSameBits(before, bits(m, opt));
        assertEquals(1, opt.appliedSteps());
        assertEquals(scale / 2, opt.lossScale(), "one backoff for the one decision");
        for (String n : m.namedParameters().keySet()) {
            assertEquals(1, opt.masterWeights().steps(n), n + " took no step");
        }
    }

    @Test
    void groupsStepBitForBitAsTwoOptimizersSharingOneScale() {
        Optimizer decay = new AdamW(1e-2, 0.9, 0.99, 1e-8, 0.1);
        Optimizer none = new AdamW(1e-2, 0.9, 0.99, 1e-8, 0);
        Sequential a = model();
        AmpOptimizer grouped = AmpOptimizer.builder(a, decay).group("no_decay", select(a, n -> n.endsWith("bias")), none)
                .precision(Precision.MIXED_FP16).build();
        Sequential b = model();
        b.to(Precision.MIXED_FP16.modelDtype());
        ScaleHolder scale = ScaleHolder.shared(Precision.MIXED_FP16.defaultScaler());
        AmpOptimizer first = AmpOptimizer.builder(select(b, n -> !n.endsWith("bias")), decay)
                .precision(Precision.MIXED_FP16).sharedScale(scale).buffers(b).build();
        AmpOptimizer second = AmpOptimizer.builder(select(b, n -> n.endsWith("bias")), none)
                .precision(Precision.MIXED_FP16).sharedScale(scale).build();
        for (int s = 0; s < 5; s++) {
            StepOutcome o = iterate(a, grouped, 50 + s);
            var rng = new SplittableRandom(50 + s);
            Tensor x = TestModels.gaussian(rng, BATCH, IN).to(Precision.MIXED_FP16.modelDtype());
            first.zeroGrad();
            second.zeroGrad();
            Tensor loss = Losses.crossEntropy(b.forward(x), TestModels.labels(rng, BATCH, CLASSES));
            first.scale(loss).backward();
            second.scale(loss);
            assertFalse(first.step().skipped() || second.step().skipped() || o.skipped());
            scale.update();
            assertEquals(scale.scale(), grouped.lossScale());
        }
        for (var e : a.namedParameters().entrySet()) {
            Parameter pb = b.namedParameters().get(e.getKey());
            assertArrayEquals(TestModels.rawBits(pb.value()), TestModels.rawBits(e.getValue().value()), e.getKey());
            AmpOptimizer other = e.getKey().endsWith("bias") ? second : first;
            assertArrayEquals(floatBits(other.masterWeights().master(e.getKey())),
                    floatBits(grouped.masterWeights().master(e.getKey())), e.getKey());
            assertArrayEquals(floatBits(other.masterWeights().state(e.getKey(), "exp_avg_sq")),
                    floatBits(grouped.masterWeights().state(e.getKey(), "exp_avg_sq")), e.getKey());
        }
    }

    @Test
    void groupsAreListedWithTheirParametersInModelOrder() {
        Sequential m = model();
        Optimizer w = new AdamW(1e-3);
        Optimizer b = new AdamW(1e-3, 0.9, 0.999, 1e-8, 0);
        AmpOptimizer opt = AmpOptimizer.builder(m, w).group("no_decay", select(m, n -> n.endsWith("bias")), b).build();
        assertEquals(List.of(new ParamGroup(ParamGroup.DEFAULT, w, List.of("1.weight", "3.weight")),
                new ParamGroup("no_decay", b, List.of("1.bias", "3.bias"))), opt.groups());
        assertEquals(w, opt.optimizer());
        assertTrue(opt.toString().contains("groups=[default: AdamW[lr=0.001") && opt.toString().contains(
                "no_decay: AdamW[lr=0.001, beta1=0.9, beta2=0.999, eps=1.0E-8, weightDecay=0.0] (2 parameters)"),
                opt.toString());
        // every parameter placed explicitly: no default group, no builder optimizer needed
        Sequential m2 = model();
        AmpOptimizer explicit = AmpOptimizer.builder(m2).group("no_decay", select(m2, n -> n.endsWith("bias")), b)
                .group("decay", select(m2, n -> n.endsWith("weight")), w).build();
        assertEquals(List.of("no_decay", "decay"), explicit.groups().stream().map(ParamGroup::name).toList());
        assertEquals(b, explicit.optimizer());
        assertEquals(List.of("1.weight", "1.bias", "3.weight", "3.bias"), explicit.masterWeights().names());
    }

    @Test
    void eachGroupFollowsItsScheduleAndTheBuilderScheduleReplacesAll() {
        Sequential m = model();
        AmpOptimizer opt = AmpOptimizer.builder(m, new Sgd(LearningRateSchedule.stepDecay(0.1, 1, 0.5), SgdRule.of(0)))
                .group("bias", select(m, n -> n.endsWith("bias")), new Sgd(0.01)).build();
        assertEquals(0.1, opt.learningRate());
        assertEquals(0.01, opt.learningRate("bias"));
        iterate(m, opt, 1);
        assertEquals(0.05, opt.learningRate(ParamGroup.DEFAULT));
        assertEquals(0.01, opt.learningRate("bias"));
        var e = assertThrows(IllegalArgumentException.class, () -> opt.learningRate("nope"));
        assertEquals("AmpOptimizer.learningRate: no group 'nope'; there are [default, bias]", e.getMessage());

        Sequential m2 = model();
        AmpOptimizer same = AmpOptimizer.builder(m2, new Sgd(0.1)).group("bias", select(m2, n -> n.endsWith("bias")),
                new Sgd(0.01)).schedule(LearningRateSchedule.constant(0.2)).build();
        assertEquals(0.2, same.learningRate());
        assertEquals(0.2, same.learningRate("bias"));
    }

    @Test
    void badGroupsAreRefusedWithMessagesNamingTheParameter() {
        Sequential m = model();
        Map<String, Parameter> biases = select(m, n -> n.endsWith("bias"));
        Map<String, Parameter> firstLayer = select(m, n -> n.startsWith("1."));
        Optimizer w = new AdamW(1e-3);

        var twice = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m, w)
                .group("no_decay", biases, w).group("layer1", firstLayer, w).build());
        assertEquals("AmpOptimizer.Builder: parameter '1.bias' is in two groups, 'no_decay' and 'layer1'; each "
                + "parameter belongs to exactly one group", twice.getMessage());

        var none = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m)
                .group("no_decay", biases, w).build());
        assertEquals("AmpOptimizer.Builder: parameters [1.weight, 3.weight] are in no group; add them to a group, or "
                + "set .optimizer(...) for a default group that takes every parameter no group names", none.getMessage());

        var kinds = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m, w)
                .group("no_decay", biases, new Sgd(0.1)).build());
        assertEquals("AmpOptimizer.Builder: group 'no_decay' uses Sgd but group 'default' uses AdamW; the groups of "
                + "one optimizer share its rule and differ only in hyper-parameters (as in PyTorch). For two rules, "
                + "build two AmpOptimizers sharing a ScaleHolder", kinds.getMessage());

        Sequential other = model();
        var foreign = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m, w)
                .group("x", Map.of("w", other.namedParameters().get("1.weight")), w).build());
        assertEquals("AmpOptimizer.Builder: parameter 'w' of group 'x' is not one of the optimizer's 4 parameters (a "
                + "parameter of another model?)", foreign.getMessage());

        var empty = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m, w)
                .group("x", Map.of(), w).build());
        assertEquals("AmpOptimizer.Builder: group 'x' has no parameters", empty.getMessage());

        var names = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m, w)
                .group(ParamGroup.DEFAULT, biases, w).build());
        assertEquals("AmpOptimizer.Builder: two groups are named 'default'; group names must be distinct",
                names.getMessage());

        assertThrows(NullPointerException.class, () -> AmpOptimizer.builder(m).group(null, biases, w));
        assertThrows(NullPointerException.class, () -> AmpOptimizer.builder(m).group("x", null, w));
        assertThrows(NullPointerException.class, () -> AmpOptimizer.builder(m).group("x", biases, null));
        var blank = assertThrows(IllegalArgumentException.class, () -> AmpOptimizer.builder(m)
                .group(" ", m.namedParameters(), w).build());
        assertEquals("ParamGroup: name is blank", blank.getMessage());
    }

    @Test
    void masterWeightsChecksGroupsByName() {
        Sequential m = model();
        Optimizer w = new Adam(1e-3);
        var e = assertThrows(IllegalArgumentException.class, () -> MasterWeights.createGrouped(m.namedParameters(), true,
                List.of(new ParamGroup("a", w, List.of("1.weight", "1.bias", "3.weight")))));
        assertEquals("MasterWeights.createGrouped: parameters [3.bias] are in no group; every parameter belongs to "
                + "exactly one group", e.getMessage());
        var u = assertThrows(IllegalArgumentException.class, () -> MasterWeights.createGrouped(m.namedParameters(), true,
                List.of(new ParamGroup("a", w, List.of("nope")))));
        assertEquals("MasterWeights.createGrouped: group 'a' names parameter 'nope', which is not one of the 4 "
                + "parameters being optimized", u.getMessage());
        MasterWeights mw = MasterWeights.createGrouped(m.namedParameters(), true, List.of(
                new ParamGroup("a", w, List.of("1.weight", "3.weight")), new ParamGroup("b", w, List.of("1.bias",
                        "3.bias"))));
        var rates = assertThrows(IllegalArgumentException.class, () -> mw.update(0.1));
        assertEquals("MasterWeights.update: 1 learning rates for 2 parameter groups [a, b]", rates.getMessage());
    }

    /** Builds the two-group MIXED_FP16 optimizer used by the state tests. */
    private static AmpOptimizer twoGroups(Module m) {
        return AmpOptimizer.builder(m, new AdamW(1e-2, 0.9, 0.99, 1e-8, 0.1))
                .group("no_decay", select(m, n -> n.endsWith("bias")), new AdamW(1e-2, 0.9, 0.99, 1e-8, 0))
                .precision(Precision.MIXED_FP16).build();
    }

    @Test
    void stateAndCheckpointRecordTheGroupsAndResumeBitForBit() {
        Sequential a = model();
        AmpOptimizer optA = twoGroups(a);
        for (int s = 0; s < 3; s++) {
            iterate(a, optA, s);
        }
        AmpState state = optA.state();
        assertEquals(List.of("default", "no_decay", "default", "no_decay"),
                state.parameters().stream().map(ParameterState::group).toList());
        List<NamedTensor> tensors = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        OptimizerCheckpoint.write("optim.", optA, tensors, meta);
        assertEquals("no_decay", meta.get("optim.group.3.bias"));
        assertEquals("default", meta.get("optim.group.3.weight"));
        assertTrue(meta.get("optim.groupOptimizer.no_decay").contains("weightDecay=0.0"), meta.toString());

        // resume: a fresh model with a's weights, restored from the file, continues as a does
        Sequential b = model();
        AmpOptimizer optB = twoGroups(b);
        a.namedParameters().forEach((n, p) -> b.namedParameters().get(n).value().copy_(p.value()));
        OptimizerCheckpoint.read("optim.", new SafetensorsFile(meta, tensors), optB);
        for (int s = 3; s < 5; s++) {
            iterate(a, optA, s);
            iterate(b, optB, s);
        }
        assertSameBits(bits(a, optA), bits(b, optB));

        // the same file into other groupings is refused, naming the parameter and both groups
        Sequential c = model();
        AmpOptimizer plain = AmpOptimizer.builder(c, new AdamW(1e-2)).precision(Precision.MIXED_FP16).build();
        var e = assertThrows(IllegalArgumentException.class,
                () -> OptimizerCheckpoint.read("optim.", new SafetensorsFile(meta, tensors), plain));
        assertEquals("MasterWeights.restore: parameter '1.bias' is in group 'no_decay' in the state but in group "
                + "'default' here; restore into an optimizer with the same parameter groups", e.getMessage());
        // and a file without groups does not restore into a grouped optimizer
        List<NamedTensor> plainTensors = new ArrayList<>();
        Map<String, String> plainMeta = new LinkedHashMap<>();
        iterate(c, plain, 0);
        OptimizerCheckpoint.write("optim.", plain, plainTensors, plainMeta);
        assertTrue(plainMeta.keySet().stream().noneMatch(k -> k.startsWith("optim.group")), plainMeta.toString());
        var f = assertThrows(IllegalArgumentException.class,
                () -> OptimizerCheckpoint.read("optim.", new SafetensorsFile(plainMeta, plainTensors), twoGroups(model())));
        assertEquals("MasterWeights.restore: parameter '1.bias' is in group 'default' in the state but in group "
                + "'no_decay' here; restore into an optimizer with the same parameter groups", f.getMessage());
    }
}
