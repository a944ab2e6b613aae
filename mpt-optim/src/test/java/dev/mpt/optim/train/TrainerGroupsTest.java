package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Gpt;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.loss.Loss;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.AdamW;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.MasterWeights;
import dev.mpt.optim.amp.ParamGroup;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.amp.TestModels;
import dev.mpt.optim.schedule.ConstantSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parameter groups through the {@link Trainer}: {@link Trainer.Builder#group} hands them on to the
 * {@link AmpOptimizer} unchanged (a Gpt trained with char-gpt's two AdamW groups steps bit for bit
 * as char-gpt's own loop), the learning-rate factor reaches every group, and checkpoints carry the
 * groups. The group arithmetic itself is held to references in {@code ParamGroupsTest}.
 */
class TrainerGroupsTest {

    private static final int VOCAB = 11;
    private static final int CONTEXT = 8;

    private static Gpt gpt(long seed) {
        return new Gpt(VOCAB, CONTEXT, 16, 2, 2, 0, new SplittableRandom(seed));
    }

    private static AdamW adamW(double weightDecay) {
        return new AdamW(1e-2, 0.9, 0.99, 1e-8, weightDecay);
    }

    /** Next-token cross-entropy of logits {@code [B, T, V]} against token ids {@code [B, T]} (as floats). */
    private static final Loss<Tensor> NEXT_TOKEN = (logits, targets) -> Losses.crossEntropy(
            logits.reshape(logits.size(0) * logits.size(1), logits.size(2)), ids(targets));

    private static int[] ids(Tensor t) {
        float[] f = t.toFloatArray();
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = (int) f[i];
        }
        return out;
    }

    /** A batch of 3 random token sequences and their successors: {inputs, targets}, both {@code [3, T]}. */
    private static Tensor[] tokens(SplittableRandom rng) {
        float[] x = new float[3 * CONTEXT];
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextInt(VOCAB);
            y[i] = rng.nextInt(VOCAB);
        }
        return new Tensor[] {Tensor.of(x, 3, CONTEXT), Tensor.of(y, 3, CONTEXT)};
    }

    /** char-gpt's groups: AdamW with decay on the Linear weight matrices, none on the rest. */
    private static Trainer.Builder grouped(Gpt model) {
        var g = model.decayGroups();
        return Trainer.builder(model).precision(Precision.MIXED_FP16).group("decay", g.get(true), adamW(0.1))
                .group("no_decay", g.get(false), adamW(0)).clipGradNorm(1.0).targetLoss(NEXT_TOKEN).logEvery(0);
    }

    /** Every bit of the weights, masters and moments, by name. */
    private static List<String> bits(Module model, AmpOptimizer opt) {
        List<String> out = new ArrayList<>();
        model.namedParameters().forEach((n, p) -> out.add(n + " " + Arrays.toString(TestModels.rawBits(p.value()))));
        MasterWeights m = opt.masterWeights();
        for (String n : m.names()) {
            out.add("master " + n + " " + Arrays.toString(m.master(n)));
            for (String s : m.optimizer().stateNames()) {
                out.add(s + " " + n + " " + Arrays.toString(m.state(n, s)));
            }
        }
        out.add(opt.appliedSteps() + " " + opt.attemptedSteps() + " " + opt.lossScale());
        return out;
    }

    @Test
    void aGptTrainsWithDecayGroupsBitForBitAsCharGptsLoop() {
        Gpt viaTrainer = gpt(1);
        Trainer t = grouped(viaTrainer).build();
        assertEquals(List.of("decay", "no_decay"), t.optimizer().groups().stream().map(ParamGroup::name).toList());

        Gpt viaLoop = gpt(1);                                   // char-gpt's optimizer and step
        var g = viaLoop.decayGroups();
        AmpOptimizer opt = AmpOptimizer.builder(viaLoop).group("decay", g.get(true), adamW(0.1))
                .group("no_decay", g.get(false), adamW(0)).precision(Precision.MIXED_FP16).clipGradNorm(1.0).build();

        var rng = new SplittableRandom(2);
        for (int s = 0; s < 4; s++) {
            Tensor[] b = tokens(rng);
            StepResult r = t.step(b[0], b[1]);
            opt.zeroGrad();
            Tensor loss = NEXT_TOKEN.apply(viaLoop.forward(b[0].to(DType.FP16)), b[1]);
            assertEquals(loss.item(), r.loss(), "step " + s);
            opt.scale(loss).backward();
            StepOutcome o = opt.step();
            assertEquals(o.skipped(), r.outcome().skipped(), "step " + s);
        }
        assertTrue(t.optimizer().appliedSteps() > 0, "some steps applied");
        assertEquals(bits(viaLoop, opt), bits(viaTrainer, t.optimizer()));
    }

    @Test
    void theLearningRateFactorAndTheTrainerScheduleReachEveryGroup() {
        Module m = TestModels.mlp(4, 8, 3, 3);
        Trainer t = Trainer.builder(m).optimizer(new Sgd(0.1)).group("bias", select(m, n -> n.endsWith("bias")),
                new Sgd(0.01)).loss(Losses::crossEntropy).logEvery(0).build();
        t.setLearningRateFactor(0.5);
        assertEquals(0.1 * 0.5, t.optimizer().learningRate(ParamGroup.DEFAULT));
        assertEquals(0.01 * 0.5, t.optimizer().learningRate("bias"));
        assertEquals(0.1 * 0.5, t.learningRate(), "the first group's");
        assertEquals(0.1, t.baseLearningRate(), "ReduceLROnPlateau's base: the first group's, without the factor");
        assertTrue(t.toString().contains("bias: Sgd[lr=0.01 x 0.5"), t.toString());

        Module m2 = TestModels.mlp(4, 8, 3, 3);
        Trainer same = Trainer.builder(m2).optimizer(new Sgd(0.1)).group("bias", select(m2, n -> n.endsWith("bias")),
                new Sgd(0.01)).schedule(new ConstantSchedule(0.2)).loss(Losses::crossEntropy).logEvery(0).build();
        same.setLearningRateFactor(0.25);
        assertEquals(0.2 * 0.25, same.optimizer().learningRate(ParamGroup.DEFAULT));
        assertEquals(0.2 * 0.25, same.optimizer().learningRate("bias"));
    }

    private static Map<String, Parameter> select(Module m, Predicate<String> keep) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        m.namedParameters().forEach((n, p) -> {
            if (keep.test(n)) {
                out.put(n, p);
            }
        });
        return out;
    }

    @Test
    void aCheckpointWithGroupsResumesBitForBitAndOnlyIntoTheSameGroups(@TempDir Path dir) throws IOException {
        Gpt model = gpt(3);
        Trainer a = grouped(model).build();
        var rng = new SplittableRandom(4);
        for (int s = 0; s < 3; s++) {
            Tensor[] b = tokens(rng);
            a.step(b[0], b[1]);
        }
        a.setLearningRateFactor(0.5);
        Path file = dir.resolve("groups.safetensors");
        a.save(file);
        long seed = rng.nextLong();
        train(a, seed);

        Trainer b = grouped(gpt(5)).build();                     // other weights, restored from the file
        b.restore(file);
        assertEquals(0.5, b.learningRateFactor());
        assertEquals(1e-2 * 0.5, b.optimizer().learningRate("no_decay"));
        train(b, seed);
        assertEquals(bits(a.model(), a.optimizer()), bits(b.model(), b.optimizer()));

        // a trainer with one group (every parameter decayed) does not take the grouped file
        Gpt other = gpt(6);
        Trainer ungrouped = Trainer.builder(other).precision(Precision.MIXED_FP16).optimizer(adamW(0.1))
                .targetLoss(NEXT_TOKEN).logEvery(0).build();
        var e = assertThrows(IllegalArgumentException.class, () -> ungrouped.restore(file));
        assertTrue(e.getMessage().endsWith("parameter 'wte.weight' is in group 'no_decay' in the state but in group "
                + "'default' here; restore into an optimizer with the same parameter groups"), e.getMessage());
    }

    private static void train(Trainer t, long seed) {
        var rng = new SplittableRandom(seed);
        for (int s = 0; s < 3; s++) {
            Tensor[] b = tokens(rng);
            t.step(b[0], b[1]);
        }
    }

    @Test
    void fitWithGroupsOfEqualOptimizersTrainsBitForBitAsWithoutGroups() {
        var rng = new SplittableRandom(7);
        float[][] rows = new float[40][4];
        int[] labels = new int[40];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < 4; j++) {
                rows[i][j] = (float) rng.nextGaussian();
            }
            labels[i] = rng.nextInt(3);
        }
        Dataset data = Dataset.ofRows(rows, labels, 3);
        Module plainModel = TestModels.mlp(4, 8, 3, 8);
        Module groupedModel = TestModels.mlp(4, 8, 3, 8);
        Trainer plain = Trainer.builder(plainModel).precision(Precision.MIXED_FP16).optimizer(adamW(0.1))
                .loss(Losses::crossEntropy).seed(9).logEvery(0).build();
        Trainer split = Trainer.builder(groupedModel).precision(Precision.MIXED_FP16)
                .group("weights", select(groupedModel, n -> n.endsWith("weight")), adamW(0.1))
                .group("biases", select(groupedModel, n -> n.endsWith("bias")), adamW(0.1))
                .loss(Losses::crossEntropy).seed(9).logEvery(0).build();
        History hp = plain.fit(data, 3);
        History hs = split.fit(data, 3);
        assertEquals(hp.last().trainLoss(), hs.last().trainLoss());
        plainModel.namedParameters().forEach((n, p) -> assertArrayEquals(TestModels.rawBits(p.value()),
                TestModels.rawBits(groupedModel.namedParameters().get(n).value()), n));
    }

    @Test
    void badGroupSettingsAreRefusedWithMessages() {
        Gpt model = gpt(10);
        var g = model.decayGroups();
        var nullParams = assertThrows(NullPointerException.class,
                () -> Trainer.builder(model).group("decay", null, adamW(0.1)));
        assertEquals("Trainer.Builder.group: parameters of group 'decay' are null", nullParams.getMessage());
        // a group that leaves parameters out, without a default optimizer: AmpOptimizer names them
        var missing = assertThrows(IllegalArgumentException.class, () -> Trainer.builder(model)
                .group("decay", g.get(true), adamW(0.1)).targetLoss(NEXT_TOKEN).build());
        assertTrue(missing.getMessage().startsWith("AmpOptimizer.Builder: parameters [wte.weight, wpe.weight, "
                + "h.0.ln_1.weight"), missing.getMessage());
        var none = assertThrows(IllegalStateException.class,
                () -> Trainer.builder(model).targetLoss(NEXT_TOKEN).build());
        assertTrue(none.getMessage().startsWith("AmpOptimizer.Builder.build: no optimizer"), none.getMessage());

        Trainer.Builder b = grouped(gpt(11));
        b.build();
        var twice = assertThrows(IllegalStateException.class, b::build);
        assertEquals("Trainer.Builder.build: this builder already built a trainer; use a new Trainer.builder(model) "
                + "for another", twice.getMessage());
    }
}
