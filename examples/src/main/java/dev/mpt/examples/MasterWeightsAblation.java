package dev.mpt.examples;

import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.GradientStats;
import dev.mpt.optim.amp.MasterWeights;
import dev.mpt.optim.amp.Precision;
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
 * The ablation behind Figure 2b of Micikevicius et al. (ICLR 2018): an update {@code lr * g}
 * smaller than half an FP16 ulp of its weight (about {@code 2^-11 |w|}) vanishes when added to an
 * FP16 weight, so FP16 weights updated in place stop learning where FP32 ones keep going; an FP32
 * master copy that receives the updates and is rounded into the FP16 weights keeps them.
 *
 * <p>An MLP on the bundled 8x8 digits trained with plain SGD (no momentum, so each update is
 * exactly {@code lr * g}) in FP32, in FP16 with FP32 masters, and in FP16 without masters (loss
 * scaling on in both FP16 runs, to isolate the masters). Every {@code --stats-every} steps the
 * weights that receive the update (the masters, or the FP16 weights themselves without them) are
 * compared before and after the step: an element whose gradient was nonzero but whose stored
 * weight did not change lost its update. The FP32 run's updates are histogrammed by power of two
 * ({@code updates.png}, FP16's range marked).
 */
@Command(name = "master-weights", mixinStandardHelpOptions = true,
        description = "Ablation (the paper's Figure 2b): FP16 weight updates with and without FP32 master weights, "
                + "and the fraction of updates that become zero. Runs all three variants; --precision and "
                + "--compare do not apply.")
public final class MasterWeightsAblation extends Example {

    @Option(names = "--width", paramLabel = "W", defaultValue = "256", description = "hidden width (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.01", description = "SGD learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--stats-every", paramLabel = "N", defaultValue = "10",
            description = "measure lost updates every N steps (default: ${DEFAULT-VALUE})")
    int statsEvery;

    /** Default epochs over the 1,437 training digits. */
    static final int DEFAULT_EPOCHS = 30;

    /** One trained variant. */
    record Variant(String label, Precision precision) {
    }

    /** What one variant measured. */
    record Outcome(Variant variant, double valAccuracy, double trainLoss, long updated, long lost,
                   GradientStats updates, double[][] lossCurve) {
    }

    @Override
    protected void validate() {
        CommonOptions.width(spec.commandLine(), "--width", width);
        CommonOptions.positive(spec.commandLine(), "--batch", batch);
        CommonOptions.positive(spec.commandLine(), "--stats-every", statsEvery);
        CommonOptions.finitePositive(spec.commandLine(), "--lr", lr);
    }

    static List<Variant> variants() {
        return List.of(new Variant("fp32", Precision.FP32),
                new Variant("fp16, fp32 masters", Precision.MIXED_FP16),
                new Variant("fp16, no masters", Precision.FP16_NO_MASTER));
    }

    Sequential model(long seed) {
        var rng = new SplittableRandom(seed);
        return new Sequential(new Flatten(), new Linear(64, width, rng), new ReLU(),
                new Linear(width, width, rng), new ReLU(), new Linear(width, 10, rng));
    }

    @Override
    protected void execute(Path dir) throws Exception {
        Dataset.Split split = Digits.load().split(0.2, common.seed());
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
        Sequential model = model(common.seed());
        Trainer trainer = Trainer.builder(model).precision(v.precision()).optimizer(new Sgd(lr))
                .loss(Losses::crossEntropy).seed(common.seed()).logEvery(0).build();
        MasterWeights mw = trainer.optimizer().masterWeights();
        Map<String, Parameter> params = model.namedParameters();
        int perEpoch = Math.min(common.maxSteps(), train.batches(batch).count());
        var progress = new Progress(log, v.label(), (long) perEpoch * epochs, Duration.ofSeconds(10));
        long updated = 0;
        long lost = 0;
        GradientStats updates = null;
        double epochLoss = Double.NaN;
        List<double[]> curve = new ArrayList<>();
        String file = v.label().replaceAll("[^a-z0-9]+", "-") + "-steps.csv";
        try (var csv = new MetricsCsv(dir.resolve(file), List.of("step", "loss", "lost_update_fraction"))) {
            for (int epoch = 0; epoch < epochs; epoch++) {
                int n = 0;
                double sum = 0;
                int finite = 0;
                for (Batch b : train.batches(batch, trainer.random())) {
                    if (n++ == perEpoch) {
                        break;
                    }
                    boolean sample = (trainer.steps() + 1) % statsEvery == 0 || trainer.steps() == 0;
                    Map<String, float[]> before = sample ? stored(mw, params) : Map.of();
                    StepResult r = trainer.step(b);
                    double lostFraction = Double.NaN;
                    if (sample && !r.outcome().skipped()) {
                        Map<String, float[]> after = stored(mw, params);
                        long u = 0;
                        long l = 0;
                        for (String name : mw.names()) {
                            float[] g = mw.gradient(name);
                            float[] w0 = before.get(name);
                            float[] w1 = after.get(name);
                            float[] step = new float[g.length];
                            for (int i = 0; i < g.length; i++) {
                                step[i] = (float) (lr * g[i]);
                                if (g[i] != 0) {
                                    u++;
                                    l += w0[i] == w1[i] ? 1 : 0;
                                }
                            }
                            GradientStats s = GradientStats.of(step, 1.0);
                            updates = updates == null ? s : updates.merge(s);
                        }
                        updated += u;
                        lost += l;
                        lostFraction = u == 0 ? 0 : (double) l / u;
                    }
                    if (Double.isFinite(r.loss())) {
                        sum += r.loss();
                        finite++;
                    }
                    curve.add(new double[] {r.outcome().step(), r.loss()});
                    csv.row(r.outcome().step(), r.loss(), lostFraction);
                    progress.step(r.outcome().step(), b.size(), r.loss(), r.outcome().scale(), 0);
                }
                epochLoss = finite == 0 ? Double.NaN : sum / finite;
            }
        }
        double acc = trainer.evaluate(val).accuracy();
        log.info(String.format(Locale.ROOT, "%s: validation accuracy %.4f, train loss %.4f, updates lost %.2f%%",
                v.label(), acc, epochLoss, 100.0 * lost / Math.max(1, updated)));
        double[][] xy = new double[2][curve.size()];
        for (int i = 0; i < curve.size(); i++) {
            xy[0][i] = curve.get(i)[0];
            xy[1][i] = curve.get(i)[1];
        }
        return new Outcome(v, acc, epochLoss, updated, lost, updates, xy);
    }

    /** The weights that receive the update, as FP32: the masters, or the parameters themselves. */
    private static Map<String, float[]> stored(MasterWeights mw, Map<String, Parameter> params) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : mw.names()) {
            Parameter p = params.get(name);
            out.put(name, mw.keepsMasters() || p.dtype() == dev.mpt.core.number.DType.FP32 ? mw.master(name)
                    : p.value().toFloatArray());
        }
        return out;
    }

    private void report(List<Outcome> outcomes, Path dir) {
        var table = new ComparisonTable(List.of("run", "val accuracy", "train loss (last epoch)", "updates lost",
                "updates below 2^-24"));
        for (Outcome o : outcomes) {
            table.row(o.variant().label(), ComparisonTable.fixed(o.valAccuracy(), 4),
                    ComparisonTable.fixed(o.trainLoss(), 4),
                    ComparisonTable.percent((double) o.lost() / Math.max(1, o.updated())),
                    ComparisonTable.percent((double) o.updates().fp16ZeroCount() / o.updates().count()));
        }
        print(table.markdown());
        print("Updates lost: elements whose gradient was nonzero but whose stored weight (the FP32 master, or the "
                + "FP16 weight without masters) did not change, sampled every " + statsEvery + " steps. Updates "
                + "below 2^-24: lr * g too small for FP16 even on its own.");
        table.write(dir.resolve("comparison.md"), "master-weights (width " + width + ", SGD lr " + lr + ", seed "
                + common.seed() + ")");
        Map<String, double[][]> curves = new LinkedHashMap<>();
        outcomes.forEach(o -> curves.put(o.variant().label(), o.lossCurve()));
        Charts.lossCurves(dir.resolve("loss.png"), "master-weights: training loss", curves);
        Charts.exponentHistogram(dir.resolve("updates.png"), "Weight updates lr * g of the FP32 run",
                outcomes.getFirst().updates());
    }
}
