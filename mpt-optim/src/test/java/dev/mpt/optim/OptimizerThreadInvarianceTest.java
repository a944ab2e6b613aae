package dev.mpt.optim;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Grain;
import dev.mpt.core.number.DType;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.core.testing.ThreadInvariance;
import dev.mpt.core.testing.ThreadInvariance.Body;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.Tanh;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.Unscale;
import dev.mpt.optim.scaling.LossScaler;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The thread-count promise for the optimizers' updates, the unscale pass, the global gradient
 * norm and one whole mixed-precision step, on 1, 2, 3 and 7 threads through
 * {@link ThreadInvariance} (same bits required; every wrapped stage must reach the pool).
 *
 * <p>Why each stage splits over 7 threads (read from the code):
 * <ul>
 * <li>{@link SgdRule#apply}: {@code forRange(len, Grain.ELEMENTWISE = 2^15)}, {@code len = 2^18}:
 *     8 chunks.
 * <li>{@link AdamRule#apply}: {@code forRange(len, 2^14)}, {@code len = 2^18}: 16 chunks, cut to 7.
 * <li>{@link Unscale#unscale}: {@code forRange(len, 2^16)}, {@code len = 2^19}: 8 chunks.
 * <li>{@link GradientClipping#globalNorm}: {@code forEach} over {@code 2^18 / 4096 = 64} blocks.
 * <li>the whole step: a {@code [64, 1024] x [1024, 512]} Linear (GEMM volume {@code 2^25}),
 *     unscale of its {@code 2^19} weight gradient (8 chunks) and Adam on it (32 chunks).
 * </ul>
 */
class OptimizerThreadInvarianceTest {

    /** Elements of an update: 8 grains of {@link Grain#ELEMENTWISE}. */
    static final int N = 8 * Grain.ELEMENTWISE;

    record Case(String name, List<DType> dtypes, Body body) {
    }

    static final List<Case> CASES = List.of(
            new Case("SgdRule momentum", List.of(DType.FP32), (dt, seed, run) ->
                    sgd(run, seed, new SgdRule(0.9, 0, 1e-4, false))),
            new Case("SgdRule nesterov", List.of(DType.FP32), (dt, seed, run) ->
                    sgd(run, seed, new SgdRule(0.9, 0, 0, true))),
            new Case("AdamRule", List.of(DType.FP32), (dt, seed, run) -> adam(run, seed, AdamRule.adam())),
            new Case("AdamRule (AdamW)", List.of(DType.FP32), (dt, seed, run) -> adam(run, seed, AdamRule.adamW())),
            new Case("Unscale", List.of(DType.FP32, DType.FP16, DType.BF16), OptimizerThreadInvarianceTest::unscale),
            new Case("GradientClipping", List.of(DType.FP32), OptimizerThreadInvarianceTest::clip),
            new Case("AmpOptimizer step", List.of(DType.FP32, DType.FP16, DType.BF16),
                    OptimizerThreadInvarianceTest::ampStep));

    @TestFactory
    Stream<DynamicTest> sameBitsOnEveryThreadCount() {
        return CASES.stream().flatMap(c -> c.dtypes().stream().map(dt -> DynamicTest.dynamicTest(c.name() + " " + dt,
                () -> ThreadInvariance.check(c.name(), dt, 29, c.body()))));
    }

    private static float[] gaussian(SplitMix64 rng, int n, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextGaussian() * sd);
        }
        return v;
    }

    /** Three steps, each with fresh gradients, from the same start. */
    private static void sgd(ThreadInvariance.Run run, long seed, SgdRule rule) {
        var rng = SplitMix64.seeded(seed);
        float[] p = gaussian(rng, N, 1);
        float[] buf = new float[N];
        for (int step = 1; step <= 3; step++) {
            float[] g = gaussian(rng, N, 0.1);
            long s = step;
            run.parallel("step " + step, () -> rule.apply(0.05, s, p, g, buf, 0, N));
        }
        run.bits("param", p);
        run.bits("momentum", buf);
    }

    private static void adam(ThreadInvariance.Run run, long seed, AdamRule rule) {
        var rng = SplitMix64.seeded(seed);
        float[] p = gaussian(rng, N, 1);
        float[] m = new float[N];
        float[] v = new float[N];
        for (int step = 1; step <= 3; step++) {
            float[] g = gaussian(rng, N, 0.1);
            long s = step;
            run.parallel("step " + step, () -> rule.apply(1e-3, s, p, g, m, v, 0, N));
        }
        run.bits("param", p);
        run.bits("m", m);
        run.bits("v", v);
    }

    private static void unscale(DType dt, long seed, ThreadInvariance.Run run) {
        var rng = SplitMix64.seeded(seed);
        int n = 2 * N;
        Tensor g = Tensor.of(gaussian(rng, n, 1000), n).to(dt);
        float[] out = new float[n];
        boolean finite = run.parallel("unscale", () -> dt == DType.FP32
                ? Unscale.unscale(g.floatData(), 0, out, 0, n, 1024)
                : Unscale.unscale(dt, g.shortData(), 0, out, 0, n, 1024));
        run.bits("unscaled", out);
        run.bits("finite", finite ? 1 : 0);
    }

    private static void clip(DType dt, long seed, ThreadInvariance.Run run) {
        var rng = SplitMix64.seeded(seed);
        List<float[]> grads = List.of(gaussian(rng, N, 1), gaussian(rng, N / 3, 3));
        double norm = run.parallel("clipByGlobalNorm", () -> GradientClipping.clipByGlobalNorm(grads, 1.0));
        run.bits("norm", norm);
        run.bits("g0", grads.get(0));
        run.bits("g1", grads.get(1));
    }

    /** Two Adam steps of a Linear + tanh model through AmpOptimizer in FP32, MIXED_FP16 or MIXED_BF16. */
    private static void ampStep(DType dt, long seed, ThreadInvariance.Run run) {
        var rng = SplitMix64.seeded(seed);
        Module model = new Sequential(new Linear(1024, 512, rng), new Tanh());
        Precision precision = switch (dt) {
            case FP32 -> Precision.FP32;
            case FP16 -> Precision.MIXED_FP16;
            case BF16 -> Precision.MIXED_BF16;
        };
        AmpOptimizer.Builder b = AmpOptimizer.builder(model, new Adam(1e-3)).precision(precision).clipGradNorm(10);
        if (precision.allowsLossScaling()) {
            b.lossScaler(LossScaler.fixed(256));
        }
        AmpOptimizer opt = b.build();
        for (int step = 0; step < 2; step++) {
            Tensor x = Tensor.randn(rng, dt, 64, 1024);
            Tensor target = Tensor.randn(rng, DType.FP32, 64, 512);
            run.parallel("step " + step, () -> {
                opt.zeroGrad();
                Tensor diff = model.forward(x).to(DType.FP32).sub(target);
                opt.scale(diff.mul(diff).mean()).backward();
                opt.step();
            });
        }
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            run.bits(e.getKey(), e.getValue().value());
            if (precision.usesMasterWeights()) {
                run.bits(e.getKey() + " master", opt.masterWeights().master(e.getKey()));
            }
            for (String s : opt.masterWeights().optimizer().stateNames()) {
                run.bits(e.getKey() + " " + s, opt.masterWeights().state(e.getKey(), s));
            }
        }
    }
}
