package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;
import dev.mpt.core.number.Half;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.MasterWeights;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the examples promise, checked on synthetic data ({@link Outputs#syntheticFashion}): the
 * loss falls, test accuracy beats chance by a margin no guessing classifier reaches, mixed FP16
 * ends within a stated margin of FP32, the same seed gives the same initial weights in every
 * precision, and dcgan's {@code --scaler shared} and {@code separate} behave as documented.
 */
class ExampleBehaviourTest {

    /** Chance of a false pass of the above-chance test, for a classifier that ignores its input. */
    static final double FALSE_PASS = 1e-6;

    /**
     * The smallest {@code k} with {@code P(X >= k) < FALSE_PASS} for {@code X ~ Binomial(n, p)}:
     * a classifier whose guesses do not depend on the image is right on each of {@code n} test
     * images with probability {@code p} (1/10 for the balanced ten classes), so it scores
     * {@code k} or more correct with probability below {@code FALSE_PASS}. Computed from the
     * probability mass function in double, {@code pmf(j + 1) = pmf(j) (n - j) / (j + 1) p / (1 - p)}.
     */
    static int chanceBound(int n, double p) {
        double[] pmf = new double[n + 1];
        pmf[0] = Math.pow(1 - p, n);
        for (int j = 0; j < n; j++) {
            pmf[j + 1] = pmf[j] * (n - j) / (j + 1) * p / (1 - p);
        }
        double tail = 0;
        int k = n + 1;
        while (k > 0 && tail + pmf[k - 1] < FALSE_PASS) {
            tail += pmf[--k];
        }
        return k;
    }

    @Test
    void chanceBoundMatchesTheBinomialTail() {
        // n = 10, p = 1/10: P(X >= 8) = 45e-8 0.81 + 90e-10 + 1e-10 = 3.736e-7 < 1e-6, while
        // P(X >= 7) = 3.736e-7 + 120e-7 0.729 = 9.12e-6 is not
        assertEquals(8, chanceBound(10, 0.1));
        // n = 400: mean 40, standard deviation 6; the bound sits near 5 standard deviations above
        int k = chanceBound(400, 0.1);
        assertTrue(k > 40 + 4 * 6 && k < 40 + 7 * 6, "k = " + k);
    }

    // ---------------------------------------------------------------- fashion-mlp: learning and FP32 vs mixed

    static final int TRAIN = 600;
    static final int TEST = 400;

    @Test
    void fashionMlpLearnsAndMixedFp16EndsWithinTheMarginOfFp32(@TempDir Path tmp) throws Exception {
        Path data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), TRAIN, TEST, 11);
        Cli r = Cli.run("fashion-mlp", "--data", data.toString(), "--out", tmp.toString(), "--compare",
                "--epochs", "3", "--batch", "50", "--hidden", "32");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("fashion-mlp");
        int needed = chanceBound(TEST, 0.1);
        Map<String, Long> correct = new LinkedHashMap<>();
        for (String run : List.of("fp32", "mixed-fp16")) {
            double[] trainLoss = Outputs.column(dir.resolve(run + "-epochs.csv"), "train_loss");
            double[] acc = Outputs.column(dir.resolve(run + "-epochs.csv"), "test_accuracy");
            assertEquals(3, trainLoss.length);
            // the loss falls: each epoch's mean training loss below the one before, and the last
            // below log 10, the loss of the best input-independent prediction on balanced classes
            for (int e = 1; e < trainLoss.length; e++) {
                assertTrue(trainLoss[e] < trainLoss[e - 1], run + " epoch losses " + Arrays.toString(trainLoss));
            }
            assertTrue(trainLoss[2] < Math.log(10), run + " final loss " + trainLoss[2]);
            long right = Math.round(acc[acc.length - 1] * TEST);
            assertTrue(right >= needed, run + ": " + right + " of " + TEST + " correct; a guesser reaches " + needed
                    + " with probability < " + FALSE_PASS);
            correct.put(run, right);
        }
        // Mixed vs FP32, the margin: both runs start from the same weights and see the same
        // batches; they differ by FP16 rounding (2^-11 relative) of weights, activations and
        // gradients, which moves only test images near a decision boundary. We allow what the
        // accuracy's own sampling error allows: 3 standard deviations sqrt(n a (1 - a)) of the
        // count of correct images at the FP32 accuracy a, plus one image for the rounding of a
        // count. A larger gap means mixed precision learned something else (lost updates or
        // gradients), not that a few borderline images flipped. (Both reach all 400 here when
        // written, so the margin is one image.)
        double a = (double) correct.get("fp32") / TEST;
        double margin = 3 * Math.sqrt(TEST * a * (1 - a)) + 1;
        assertTrue(Math.abs(correct.get("fp32") - correct.get("mixed-fp16")) <= margin, "correct of " + TEST
                + ": " + correct + ", margin " + margin);
    }

    // ---------------------------------------------------------------- same seed, same initial weights

    /**
     * Every example builds its model in FP32 from {@code --seed}, then the precision converts it:
     * the 16-bit weights must be the FP32 initial weights rounded once to nearest (ties to even),
     * FP32 parameters (BatchNorm's) unchanged, and the FP32 masters copies of the 16-bit weights
     * (widened exactly: a mixed run starts from the rounded weights, as its forward pass sees them,
     * not from the FP32 run's low-order bits).
     */
    @Test
    void sameSeedGivesTheSameInitialWeightsInEveryPrecision() {
        Map<String, Supplier<Module>> models = new LinkedHashMap<>();
        models.put("fashion-mlp", () -> FashionMlp.model(3, 16));
        models.put("fashion-cnn", () -> FashionCnn.model(3, 4));
        models.put("char-lstm", () -> CharLstm.model(3, 20, 8, 16).net());
        models.put("dcgan generator", () -> Dcgan.generator(new SplittableRandom(3), 4));
        models.put("dcgan discriminator", () -> Dcgan.discriminator(new SplittableRandom(3), 4));
        for (var e : models.entrySet()) {
            Map<String, float[]> fp32 = new LinkedHashMap<>();
            e.getValue().get().namedParameters().forEach((name, p) -> fp32.put(name, p.value().toFloatArray()));
            for (Precision precision : List.of(Precision.MIXED_FP16, Precision.MIXED_BF16)) {
                String what = e.getKey() + " " + precision;
                Module m = e.getValue().get();
                Trainer trainer = Trainer.builder(m).precision(precision).optimizer(new Sgd(0.1, 0))
                        .loss(Losses::crossEntropy).build();
                MasterWeights masters = trainer.optimizer().masterWeights();
                Map<String, Parameter> params = m.namedParameters();
                assertEquals(fp32.keySet(), params.keySet(), what);
                int converted = 0;
                for (var p : params.entrySet()) {
                    float[] want = fp32.get(p.getKey());
                    float[] got = p.getValue().value().toFloatArray();
                    DType dt = p.getValue().value().dtype();
                    for (int i = 0; i < want.length; i++) {
                        float rounded = switch (dt) {
                            case FP32 -> want[i];
                            case FP16 -> Half.toFloat(Half.fromFloat(want[i]));
                            case BF16 -> BFloat16.toFloat(BFloat16.fromFloat(want[i]));
                        };
                        assertEquals(Float.floatToRawIntBits(rounded), Float.floatToRawIntBits(got[i]),
                                what + " " + p.getKey() + "[" + i + "]: " + got[i] + " vs FP32 " + want[i]);
                    }
                    if (dt != DType.FP32) {
                        converted++;
                        assertEquals(precision.modelDtype(), dt, what + " " + p.getKey());
                        float[] master = masters.master(p.getKey());
                        for (int i = 0; i < want.length; i++) {
                            assertEquals(Float.floatToRawIntBits(got[i]), Float.floatToRawIntBits(master[i]),
                                    what + " master " + p.getKey() + "[" + i + "]");
                        }
                    }
                }
                assertTrue(converted > 0, what + ": no parameter was converted");
            }
        }
    }

    // ---------------------------------------------------------------- dcgan: shared and separate loss scales

    /**
     * examples/README.md and {@link Dcgan}: {@code --scaler shared} is one dynamic loss scale for
     * both optimizers, backed off for both when either overflows; {@code --scaler separate} gives
     * each optimizer its own scale, backed off only by its own overflows. From the step log
     * ({@code d_scale, g_scale}: the scale each step used; {@code d_skipped, g_skipped}) that
     * reads, for step k to k + 1 (no 2000-step growth interval is reached here):
     * <ul>
     * <li>shared: {@code d_scale == g_scale} at every step, halved after a step where either
     *     skipped, unchanged otherwise; a discriminator overflow also skips the generator's step
     *     that follows it in the same iteration ({@link dev.mpt.optim.amp.ScaleHolder});
     * <li>separate: each scale halved after a step where its own optimizer skipped, unchanged
     *     otherwise, whatever the other did.
     * </ul>
     * With this seed the discriminator's FP16 gradients overflow at the initial scale 2^16 in step
     * 4; the test requires at least one back-off in each mode and, in separate mode, one step where
     * the two scales differ.
     */
    @Test
    void dcganSharedAndSeparateScalersBehaveAsDocumented(@TempDir Path tmp) throws Exception {
        Path data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), 192, 16, 5);
        for (String mode : List.of("shared", "separate")) {
            Path out = tmp.resolve(mode);
            Cli r = Cli.run("dcgan", "--data", data.toString(), "--out", out.toString(), "--scaler", mode,
                    "--epochs", "1", "--max-steps", "6", "--batch", "16", "--width", "4");
            assertEquals(0, r.exitCode(), r.err());
            Path csv = out.resolve("dcgan").resolve("mixed-fp16-steps.csv");
            double[] dScale = Outputs.column(csv, "d_scale");
            double[] gScale = Outputs.column(csv, "g_scale");
            double[] dSkip = Outputs.column(csv, "d_skipped");
            double[] gSkip = Outputs.column(csv, "g_skipped");
            String log = mode + ": d_scale " + Arrays.toString(dScale) + " g_scale " + Arrays.toString(gScale)
                    + " d_skipped " + Arrays.toString(dSkip) + " g_skipped " + Arrays.toString(gSkip);
            assertEquals(6, dScale.length, log);
            int backoffs = 0;
            int differ = 0;
            for (int k = 0; k + 1 < dScale.length; k++) {
                boolean d = dSkip[k] == 1;
                boolean g = gSkip[k] == 1;
                if (mode.equals("shared")) {
                    assertEquals(dScale[k], gScale[k], "step " + (k + 1) + " " + log);
                    assertEquals(d || g ? dScale[k] / 2 : dScale[k], dScale[k + 1], "step " + (k + 2) + " " + log);
                    assertTrue(!d || g, "D overflowed but G stepped in step " + (k + 1) + " " + log);
                } else {
                    assertEquals(d ? dScale[k] / 2 : dScale[k], dScale[k + 1], "D step " + (k + 2) + " " + log);
                    assertEquals(g ? gScale[k] / 2 : gScale[k], gScale[k + 1], "G step " + (k + 2) + " " + log);
                    differ += dScale[k + 1] != gScale[k + 1] ? 1 : 0;
                }
                backoffs += d || g ? 1 : 0;
            }
            assertTrue(backoffs > 0, "no overflow, nothing to compare: " + log);
            if (mode.equals("separate")) {
                assertTrue(differ > 0, "the two scales never differed: " + log);
            }
        }
    }
}
