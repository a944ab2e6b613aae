package dev.mpt.examples;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.GradientProbe;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.Tanh;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.GradientStats;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.train.StepResult;
import dev.mpt.optim.train.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ablation behind Figure 3 of Micikevicius et al. (ICLR 2018): when most activation gradients
 * lie below FP16's smallest subnormal {@code 2^-24}, FP16 training without loss scaling loses them
 * (they flush to zero) and stalls, while scaling the loss by a constant or by the dynamic scaler
 * shifts them into FP16's range and recovers FP32's result.
 *
 * <p>The model is a deep, narrow tanh network on the bundled 8x8 digits, trained with Adam on a
 * cross-entropy loss multiplied by a small weight ({@code --loss-weight}, default {@code 2^-15}),
 * standing for a loss of small magnitude (one term of a weighted sum, a mean over many outputs).
 * Adam's update does not depend on the gradients' scale (with its epsilon set far below them), so
 * the FP32 run trains as it would with weight 1: only the FP16 representation of the gradients
 * differs between the runs. Every variant starts from the same weights and shuffling.
 *
 * <p>{@link GradientProbe}s after each layer capture the activation gradients every
 * {@code --stats-every} steps; {@link GradientStats} histograms them. The FP32 run's histogram,
 * with FP16's representable range marked, is written to {@code activation-gradients.png}.
 */
@Command(name = "loss-scaling", mixinStandardHelpOptions = true,
        description = "Ablation (the paper's Figure 3): tiny activation gradients in FP32, FP16 without loss "
                + "scaling, with a static scale and with the dynamic scaler. Runs all four variants; "
                + "--precision and --compare do not apply.")
public final class LossScalingAblation extends Example {

    @Option(names = "--depth", paramLabel = "L", defaultValue = "8", description = "linear layers (default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--width", paramLabel = "W", defaultValue = "32", description = "hidden width (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--loss-weight", paramLabel = "W", defaultValue = "0x1p-15",
            description = "factor on the cross-entropy loss (default: 2^-15)")
    double lossWeight;

    @Option(names = "--static-scale", paramLabel = "S", defaultValue = "0x1p12",
            description = "the static loss scale (default: 2^12)")
    double staticScale;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.003", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--stats-every", paramLabel = "N", defaultValue = "25",
            description = "capture activation gradients every N steps (default: ${DEFAULT-VALUE})")
    int statsEvery;

    /** Default epochs over the 1,437 training digits. */
    static final int DEFAULT_EPOCHS = 20;

    /** Adam's epsilon, far below the smallest gradients of interest so the update stays scale-free. */
    static final double ADAM_EPS = 1e-30;

    /** One trained variant. */
    record Variant(String label, Precision precision, LossScaler scaler) {
    }

    /** What one variant measured. */
    record Outcome(Variant variant, double valAccuracy, double trainLoss, GradientStats activationGrads,
                   GradientStats weightGrads, long skipped, double finalScale, double[][] lossCurve) {
    }

    @Override
    protected void validate() {
        CommonOptions.positive(spec.commandLine(), "--depth", depth);
        CommonOptions.width(spec.commandLine(), "--width", width);
        CommonOptions.positive(spec.commandLine(), "--batch", batch);
        CommonOptions.positive(spec.commandLine(), "--stats-every", statsEvery);
        if (depth < 2) {
            throw usageError("--depth must be >= 2, got " + depth);
        }
        CommonOptions.finitePositive(spec.commandLine(), "--loss-weight", lossWeight);
        CommonOptions.finitePositive(spec.commandLine(), "--static-scale", staticScale);
        CommonOptions.finitePositive(spec.commandLine(), "--lr", lr);
    }

    /** The four variants, in the order of the table. */
    List<Variant> variants() {
        return List.of(new Variant("fp32", Precision.FP32, null),
                new Variant("fp16, no scaling", Precision.FP16_NO_SCALING, null),
                new Variant("fp16, static " + ComparisonTable.scale(staticScale), Precision.MIXED_FP16,
                        LossScaler.fixed(staticScale)),
                new Variant("fp16, dynamic", Precision.MIXED_FP16, LossScaler.dynamic()));
    }

    /** Linear-tanh blocks with a probe after every layer; the probes are returned in {@code probes}. */
    Sequential model(long seed, List<GradientProbe> probes) {
        var rng = new SplittableRandom(seed);
        List<Module> layers = new ArrayList<>();
        layers.add(new Flatten());
        for (int i = 0; i < depth; i++) {
            int in = i == 0 ? 64 : width;
            int out = i == depth - 1 ? 10 : width;
            layers.add(new Linear(in, out, rng));
            if (i < depth - 1) {
                layers.add(new Tanh());
            }
            var probe = new GradientProbe();
            probes.add(probe);
            layers.add(probe);
        }
        return new Sequential(layers.toArray(Module[]::new));
    }

    @Override
    protected void execute(Path dir) throws Exception {
        Dataset all = Digits.load();
        Dataset.Split split = all.split(0.2, common.seed());
        Dataset train = Subsets.first(split.train(), common.limit());
        Dataset val = Subsets.first(split.validation(), common.limit());
        int epochs = common.epochs(DEFAULT_EPOCHS);
        List<Outcome> outcomes = new ArrayList<>();
        for (Variant v : variants()) {
            outcomes.add(train(v, train, val, epochs, dir));
        }
        report(outcomes, dir);
    }

    Outcome train(Variant v, Dataset train, Dataset val, int epochs, Path dir) {
        List<GradientProbe> probes = new ArrayList<>();
        Sequential model = model(common.seed(), probes);
        float w = (float) lossWeight;
        var b = Trainer.builder(model).precision(v.precision()).optimizer(new Adam(lr, 0.9, 0.999, ADAM_EPS, 0))
                .loss((out, labels) -> Losses.crossEntropy(out, labels).mul(w)).seed(common.seed())
                .collectGradientStats(true).logEvery(0);
        if (v.scaler() != null) {
            b.lossScaler(v.scaler());
        }
        Trainer trainer = b.build();
        int perEpoch = Math.min(common.maxSteps(), train.batches(batch).count());
        long total = (long) perEpoch * epochs;
        var progress = new Progress(log, v.label(), total, Duration.ofSeconds(10));
        GradientStats act = null;
        GradientStats wts = null;
        long skipped = 0;
        double epochLoss = Double.NaN;
        List<double[]> curve = new ArrayList<>();
        String file = v.label().replaceAll("[^a-z0-9]+", "-") + "-steps.csv";
        try (var csv = new MetricsCsv(dir.resolve(file), List.of("step", "loss", "scale", "skipped",
                "act_grad_zero_fraction"))) {
            for (int epoch = 0; epoch < epochs; epoch++) {
                int n = 0;
                double sum = 0;
                int finite = 0;
                for (Batch batchData : train.batches(batch, trainer.random())) {
                    if (n++ == perEpoch) {
                        break;
                    }
                    long step = trainer.steps() + 1;
                    boolean sample = step == 1 || step % statsEvery == 0;
                    probes.forEach(p -> p.arm(sample));
                    StepResult r = trainer.step(batchData);
                    skipped += r.outcome().skipped() ? 1 : 0;
                    double loss = r.loss() / lossWeight;
                    if (Double.isFinite(loss)) {
                        sum += loss;
                        finite++;
                    }
                    curve.add(new double[] {r.outcome().step(), loss});
                    double zeroFraction = Double.NaN;
                    if (sample) {
                        GradientStats a = activationStats(probes, r.outcome().scale());
                        zeroFraction = (double) a.fp16ZeroCount() / a.count();
                        act = act == null ? a : act.merge(a);
                        for (GradientStats g : r.outcome().gradientStats().values()) {
                            wts = wts == null ? g : wts.merge(g);
                        }
                    }
                    csv.row(r.outcome().step(), loss, r.outcome().scale(), r.outcome().skipped() ? 1 : 0, zeroFraction);
                    progress.step(r.outcome().step(), batchData.size(), loss, r.outcome().scale(), skipped);
                }
                epochLoss = finite == 0 ? Double.NaN : sum / finite;
            }
        }
        probes.forEach(p -> p.arm(false));
        double acc = trainer.evaluate(val).accuracy();
        log.info(String.format(Locale.ROOT, "%s: validation accuracy %.4f, train loss %.4f, activation gradients "
                + "zero in FP16 %.1f%%, skipped %d", v.label(), acc, epochLoss, 100.0 * act.fp16ZeroCount() / act.count(),
                skipped));
        double[][] xy = new double[2][curve.size()];
        for (int i = 0; i < curve.size(); i++) {
            xy[0][i] = curve.get(i)[0];
            xy[1][i] = curve.get(i)[1];
        }
        return new Outcome(v, acc, epochLoss, act, wts, skipped, trainer.optimizer().lossScale(), xy);
    }

    /**
     * Statistics of the probes' gradients: for FP32 activations, the true values with their FP16
     * classes at scale 1 (what FP16 without scaling would keep); for FP16 activations, the stored
     * values at the scale they were computed with.
     */
    static GradientStats activationStats(List<GradientProbe> probes, double scale) {
        GradientStats all = null;
        for (GradientProbe p : probes) {
            Tensor g = p.gradient();
            if (g == null) {
                continue;
            }
            Tensor c = g.contiguous();
            GradientStats s = c.dtype() == DType.FP32 ? GradientStats.of(c.toFloatArray(), 1.0)
                    : GradientStats.ofHalf(c.shortData(), c.storageOffset(), c.numel(), scale);
            all = all == null ? s : all.merge(s);
        }
        if (all == null) {
            throw new IllegalStateException("loss-scaling: no activation gradient was captured");
        }
        return all;
    }

    private void report(List<Outcome> outcomes, Path dir) {
        var table = new ComparisonTable(List.of("run", "val accuracy", "train loss (last epoch)", "act. grads zero in FP16",
                "weight grads zero in FP16", "skipped", "final scale"));
        for (Outcome o : outcomes) {
            table.row(o.variant().label(), ComparisonTable.fixed(o.valAccuracy(), 4),
                    ComparisonTable.fixed(o.trainLoss(), 4),
                    ComparisonTable.percent((double) o.activationGrads().fp16ZeroCount() / o.activationGrads().count()),
                    ComparisonTable.percent((double) o.weightGrads().fp16ZeroCount() / o.weightGrads().count()),
                    Long.toString(o.skipped()), ComparisonTable.scale(o.finalScale()));
        }
        GradientStats fp32 = outcomes.getFirst().activationGrads();
        String note = String.format(Locale.ROOT, "Zero in FP16: for the FP32 row, the share of the true gradients that FP16 would flush to zero without "
                + "scaling; for FP16 rows, the share of the stored gradients that are zero. Sampled every " + statsEvery
                + " steps. "
                + "Activation gradients of the FP32 run: %.1f%% below 2^-24, largest %.3g; "
                + "GradientStats suggests a static scale of %s (99%% kept) and at most %s (no overflow).",
                100.0 * fp32.fp16ZeroCount() / fp32.count(), fp32.maxAbs(),
                ComparisonTable.scale(fp32.suggestScale(0.99)), ComparisonTable.scale(fp32.suggestScale()));
        print(table.markdown());
        print(note);
        table.write(dir.resolve("comparison.md"), "loss-scaling (depth " + depth + ", width " + width
                + ", loss weight " + ComparisonTable.scale(lossWeight) + ", seed " + common.seed() + ")");
        Map<String, double[][]> curves = new LinkedHashMap<>();
        outcomes.forEach(o -> curves.put(o.variant().label(), o.lossCurve()));
        Charts.lossCurves(dir.resolve("loss.png"), "loss-scaling: training loss (unweighted)", curves);
        Charts.exponentHistogram(dir.resolve("activation-gradients.png"),
                "Activation gradients of the FP32 run (" + ComparisonTable.percent((double) fp32.zeroCount() / fp32.count())
                        + " exactly zero)", fp32);
        try (var csv = new MetricsCsv(dir.resolve("activation-gradients.csv"), List.of("log2_magnitude", "count"))) {
            for (int e = GradientStats.MIN_EXPONENT; e <= GradientStats.MAX_EXPONENT; e++) {
                csv.row(e, fp32.countAtExponent(e));
            }
        }
    }
}
