package dev.mpt.optim.parallel;

import dev.mpt.core.Tensor;
import dev.mpt.nn.LayerNorm;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.amp.TestModels;
import dev.mpt.optim.scaling.LossScaler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The data-parallel tests' model, data and runs. The model's first weight has 4800 elements, two
 * blocks of {@link dev.mpt.optim.GradientClipping#BLOCK} (4096 + 704), so shards of 2 and 4 ranks
 * cut inside a parameter, and with 4 ranks one rank owns nothing.
 */
final class DpFixtures {

    static final int IN = 24;
    static final int HIDDEN = 200;
    static final int CLASSES = 5;
    static final int MICRO = 8;

    private DpFixtures() {
    }

    /** 24 -> 200 -> ReLU -> 5, weights drawn from a fixed seed. */
    static Module mlp() {
        var rng = new SplittableRandom(7);
        return new Sequential(new Linear(IN, HIDDEN, rng), new ReLU(), new Linear(HIDDEN, CLASSES, rng));
    }

    /** As {@link #mlp()} with a LayerNorm, whose parameters stay FP32 in mixed precision (both groups). */
    static Module mlpWithNorm() {
        var rng = new SplittableRandom(7);
        return new Sequential(new Linear(IN, HIDDEN, rng), new LayerNorm(HIDDEN), new ReLU(),
                new Linear(HIDDEN, CLASSES, rng));
    }

    /**
     * Micro-batch {@code j} of step {@code t}: 8 Gaussian samples and labels drawn from a seed of
     * {@code (t, j)}; with {@code poison}, one input is +inf (its forward and gradients overflow).
     */
    static Tensor loss(Module model, Precision p, int t, int j, boolean poison) {
        var rng = new SplittableRandom(1000L * t + j);
        float[] x = new float[MICRO * IN];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        if (poison) {
            x[3] = Float.POSITIVE_INFINITY;
        }
        int[] y = new int[MICRO];
        for (int i = 0; i < MICRO; i++) {
            y[i] = rng.nextInt(CLASSES);
        }
        return Losses.crossEntropy(model.forward(Tensor.of(x, MICRO, IN).to(p.modelDtype())), y);
    }

    /** How one configuration trains. */
    record Config(Precision precision, Supplier<Optimizer> optimizer, Supplier<LossScaler> scaler, double clip,
                  Supplier<Module> model) {

        DataParallelOptimizer build(Module m, Collective c) {
            var b = DataParallelOptimizer.builder(m, c, optimizer.get()).precision(precision).lossScaler(scaler.get());
            if (clip > 0) {
                b.clipGradNorm(clip);
            }
            return b.build();
        }
    }

    /** What a run ends with, per rank. */
    record Result(Map<String, float[]> masters, List<StepOutcome> outcomes, Map<String, int[]> weights) {
    }

    /** A micro-batch to poison: step {@code step}, global micro-batch {@code micro}; none when step < 0. */
    record Poison(int step, int micro) {
        static final Poison NONE = new Poison(-1, -1);

        boolean at(int t, int j) {
            return t == step && j == micro;
        }
    }

    /**
     * {@code world} ranks, each training on global micro-batch {@code rank * perRank + i} of every
     * step ({@code perRank} of them accumulated, in order) from step {@code from} to {@code to};
     * when {@code resumeFrom} is set, the optimizer is loaded from there first, and when
     * {@code saveTo} is set, each rank saves at the end.
     */
    static List<Result> train(Config cfg, int world, int perRank, int to, Poison poison, Path resumeFrom,
                              Path saveTo) {
        return DataParallel.workers(world).run(cfg.model(), w -> {
            DataParallelOptimizer opt = cfg.build(w.model(), w.collective());
            if (resumeFrom != null) {
                ShardedCheckpoint.load(resumeFrom, opt);
            }
            List<StepOutcome> outcomes = new ArrayList<>();
            for (int t = (int) opt.attemptedSteps(); t < to; t++) {
                opt.zeroGrad();
                for (int i = 0; i < perRank; i++) {
                    int j = w.rank() * perRank + i;
                    opt.scale(loss(w.model(), cfg.precision(), t, j, poison.at(t, j))).backward();
                    if (perRank > 1) {
                        opt.accumulate();
                    }
                }
                outcomes.add(opt.step());
            }
            if (saveTo != null) {
                ShardedCheckpoint.save(saveTo, opt);
            }
            Map<String, int[]> weights = new LinkedHashMap<>();
            w.model().namedParameters().forEach((n, p) -> weights.put(n, TestModels.rawBits(p.value())));
            return new Result(opt.allMasters(), outcomes, weights);
        });
    }

    /** The raw bits of every master, for exact comparison. */
    static Map<String, List<Integer>> bits(Map<String, float[]> masters) {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        masters.forEach((n, v) -> {
            List<Integer> b = new ArrayList<>(v.length);
            for (float f : v) {
                b.add(Float.floatToRawIntBits(f));
            }
            out.put(n, b);
        });
        return out;
    }
}
