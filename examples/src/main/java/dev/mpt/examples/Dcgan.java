package dev.mpt.examples;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.BatchNorm2d;
import dev.mpt.nn.Conv2d;
import dev.mpt.nn.ConvTranspose2d;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Lambda;
import dev.mpt.nn.LeakyReLU;
import dev.mpt.nn.Linear;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.Tanh;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.ScaleHolder;
import dev.mpt.optim.amp.StepOutcome;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A DCGAN (Radford et al. 2016) on Fashion-MNIST: a generator of transposed convolutions from a
 * 64-dimensional normal code to a 28x28 image, and a convolutional discriminator, each with its own
 * Adam optimizer wrapped in an {@link AmpOptimizer}. The two either share one dynamic loss scale
 * ({@code --scaler shared}: an overflow in either backs it off for both) or keep one each
 * ({@code --scaler separate}). After every epoch an 8x8 grid of images generated from a fixed set
 * of codes is written as {@code <precision>-epoch-<n>.png}.
 */
@Command(name = "dcgan", mixinStandardHelpOptions = true,
        description = "DCGAN on Fashion-MNIST with two optimizers sharing one loss scaler (or one each); "
                + "writes a PNG grid of generated images per epoch.")
public final class Dcgan extends TrainingExample {

    /** How the two optimizers scale their losses. */
    enum ScalerMode {
        /** One {@link ScaleHolder#shared} for both, updated once per iteration. */
        shared,
        /** Each optimizer owns its scaler. */
        separate
    }

    @Mixin
    FashionData data;

    @Option(names = "--scaler", paramLabel = "MODE", defaultValue = "shared",
            description = "shared (one loss scale for both optimizers) or separate (default: ${DEFAULT-VALUE})")
    ScalerMode scalerMode;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--width", paramLabel = "C", defaultValue = "32",
            description = "channels of the first convolution (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.0002", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    /** Size of the generator's code. */
    static final int CODE = 64;

    /** Images in the per-epoch grid (8 x 8). */
    static final int GRID = 8;

    /** Adam's first-moment decay, 0.5 as in the DCGAN paper. */
    static final double BETA1 = 0.5;

    /** Default epochs. */
    static final int DEFAULT_EPOCHS = 1;

    static Sequential generator(SplittableRandom rng, int c) {
        return new Sequential(new Linear(CODE, 2 * c * 7 * 7, rng),
                new Lambda("to 7x7", x -> x.reshape(x.size(0), 2 * c, 7, 7)), new BatchNorm2d(2 * c), new ReLU(),
                new ConvTranspose2d(2 * c, c, 4, 2, 1, rng), new BatchNorm2d(c), new ReLU(),
                new ConvTranspose2d(c, 1, 4, 2, 1, rng), new Tanh());
    }

    static Sequential discriminator(SplittableRandom rng, int c) {
        return new Sequential(new Conv2d(1, c, 4, 2, 1, rng), new LeakyReLU(0.2f),
                new Conv2d(c, 2 * c, 4, 2, 1, rng), new BatchNorm2d(2 * c), new LeakyReLU(0.2f),
                new Flatten(), new Linear(2 * c * 7 * 7, 1, rng));
    }

    @Override
    protected void validate() {
        CommonOptions.positive(spec.commandLine(), "--batch", batch);
        CommonOptions.width(spec.commandLine(), "--width", width);
        CommonOptions.finitePositive(spec.commandLine(), "--lr", lr);
    }

    @Override
    protected String title() {
        return "dcgan (" + scalerMode + " loss scaler)";
    }

    @Override
    protected RunResult train(PrecisionOption p, Path dir) throws Exception {
        Dataset train = data.load(common.limit()).train();
        var rng = new SplittableRandom(common.seed());
        Sequential g = generator(rng, width);
        Sequential d = discriminator(rng, width);
        var gb = AmpOptimizer.builder(g, new Adam(lr, BETA1, 0.999, 1e-8, 0)).precision(p.precision());
        var db = AmpOptimizer.builder(d, new Adam(lr, BETA1, 0.999, 1e-8, 0)).precision(p.precision());
        ScaleHolder shared = null;
        if (scalerMode == ScalerMode.shared) {
            shared = ScaleHolder.shared(p.precision().defaultScaler());
            gb.sharedScale(shared);
            db.sharedScale(shared);
        }
        AmpOptimizer gOpt = gb.build();
        AmpOptimizer dOpt = db.build();
        DType dt = p.precision().modelDtype();
        SplitMix64 random = SplitMix64.seeded(common.seed());
        Tensor fixedCodes = Tensor.randn(SplitMix64.seeded(common.seed() + 1), DType.FP32, GRID * GRID, CODE);
        String label = p.cliName();
        int epochs = common.epochs(DEFAULT_EPOCHS);
        int perEpoch = Math.min(common.maxSteps(), train.batches(batch).dropLast().count());
        long total = (long) perEpoch * epochs;
        log.info("{}: generator {} and discriminator {} parameters, {} loss scaler, {} steps per epoch", label,
                g.parameterCount(), d.parameterCount(), scalerMode, perEpoch);
        var progress = new Progress(log, label, total, Duration.ofSeconds(10));
        double[] xs = new double[(int) total];
        double[] gLosses = new double[(int) total];
        double[] dLosses = new double[(int) total];
        int k = 0;
        long skipped = 0;
        double seconds = 0;
        try (var csv = new MetricsCsv(dir.resolve(label + "-steps.csv"), List.of("step", "epoch", "d_loss", "g_loss",
                "d_scale", "g_scale", "d_skipped", "g_skipped"))) {
            for (int epoch = 1; epoch <= epochs; epoch++) {
                long t0 = System.nanoTime();
                int n = 0;
                for (Batch b : train.batches(batch, random).dropLast()) {
                    if (n++ == perEpoch) {
                        break;
                    }
                    int m = b.size();
                    Tensor real = b.inputs().mul(2f).sub(1f).to(dt);
                    Tensor ones = Tensor.ones(m, 1);
                    Tensor zeros = Tensor.zeros(m, 1);
                    // discriminator: real images towards 1, generated ones (no gradient into G) towards 0
                    dOpt.zeroGrad();
                    Tensor fake = g.forward(Tensor.randn(random, dt, m, CODE)).detach();
                    Tensor dLoss = Losses.bceWithLogits(d.forward(real), ones)
                            .add(Losses.bceWithLogits(d.forward(fake), zeros));
                    double dValue = dLoss.item();
                    dOpt.scale(dLoss).backward();
                    StepOutcome dStep = dOpt.step();
                    // generator: make the discriminator call its images real
                    gOpt.zeroGrad();
                    dOpt.zeroGrad();
                    Tensor gLoss = Losses.bceWithLogits(d.forward(g.forward(Tensor.randn(random, dt, m, CODE))), ones);
                    double gValue = gLoss.item();
                    gOpt.scale(gLoss).backward();
                    StepOutcome gStep = gOpt.step();
                    if (shared != null) {
                        shared.update();
                    }
                    skipped += (dStep.skipped() ? 1 : 0) + (gStep.skipped() ? 1 : 0);
                    xs[k] = k + 1;
                    dLosses[k] = dValue;
                    gLosses[k++] = gValue;
                    csv.row(k, epoch, dValue, gValue, dStep.scale(), gStep.scale(), dStep.skipped() ? 1 : 0,
                            gStep.skipped() ? 1 : 0);
                    progress.step(k, m, gValue, gStep.scale(), skipped);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                seconds += sec;
                Path png = dir.resolve(String.format(Locale.ROOT, "%s-epoch-%d.png", label, epoch));
                writeGrid(png, generate(g, fixedCodes.to(dt)));
                log.info(String.format(Locale.ROOT, "%s epoch %d/%d: D loss %.4f, G loss %.4f, %.1f s, images %s", label,
                        epoch, epochs, dLosses[k - 1], gLosses[k - 1], sec, png.getFileName()));
            }
        }
        Map<String, double[][]> curves = new LinkedHashMap<>();
        curves.put("discriminator", new double[][] {Arrays.copyOf(xs, k), Arrays.copyOf(dLosses, k)});
        curves.put("generator", new double[][] {Arrays.copyOf(xs, k), Arrays.copyOf(gLosses, k)});
        Charts.lossCurves(dir.resolve(label + "-gan-loss.png"), "dcgan " + label + ": losses", curves);
        Map<DType, Long> weights = new EnumMap<>(DType.class);
        weights.putAll(Memory.weights(g));
        Memory.weights(d).forEach((t, v) -> weights.merge(t, v, Long::sum));
        Map<DType, Long> acts = new EnumMap<>(DType.class);
        Tensor probeCodes = Tensor.randn(SplitMix64.seeded(common.seed()), dt, batch, CODE);
        acts.putAll(Memory.activations(g, probeCodes));
        Memory.activations(d, g.forward(probeCodes).detach()).forEach((t, v) -> acts.merge(t, v, Long::sum));
        double lastG = average(gLosses, k);
        return new RunResult(label, "G loss (last 10%)", lastG, seconds / epochs, weights,
                Memory.masters(gOpt.masterWeights()) + Memory.masters(dOpt.masterWeights()), acts, k, skipped,
                gOpt.lossScale(), new double[][] {Arrays.copyOf(xs, k), Arrays.copyOf(gLosses, k)});
    }

    /** Mean of the finite values among the last tenth (at least one) of the first {@code k}. */
    private static double average(double[] v, int k) {
        int from = k - Math.max(1, k / 10);
        double s = 0;
        int n = 0;
        for (int i = from; i < k; i++) {
            if (Double.isFinite(v[i])) {
                s += v[i];
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /** The generator's images for {@code codes}, in eval mode and without gradients, as FP32 {@code [n, 1, 28, 28]}. */
    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    static float[] generate(Sequential g, Tensor codes) {
        g.eval();
        try (NoGrad scope = NoGrad.enter()) {
            return g.forward(codes).to(DType.FP32).toFloatArray();
        } finally {
            g.train();
        }
    }

    /** Writes {@code GRID x GRID} 28x28 images with values in [-1, 1] as one grey PNG, 2 pixels apart. */
    static void writeGrid(Path png, float[] images) throws IOException {
        int side = 28;
        int gap = 2;
        int size = GRID * side + (GRID + 1) * gap;
        var img = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        var raster = img.getRaster();
        for (int i = 0; i < GRID * GRID; i++) {
            int ox = gap + (i % GRID) * (side + gap);
            int oy = gap + (i / GRID) * (side + gap);
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    float v = images[i * side * side + y * side + x];
                    int grey = Float.isFinite(v) ? Math.round((Math.max(-1, Math.min(1, v)) + 1) * 127.5f) : 0;
                    raster.setSample(ox + x, oy + y, 0, grey);
                }
            }
        }
        java.nio.file.Files.createDirectories(png.toAbsolutePath().getParent());
        if (!ImageIO.write(img, "png", png.toFile())) {
            throw new IOException("no PNG writer for " + png);
        }
    }
}
