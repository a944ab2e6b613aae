package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Gpt;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.AdamW;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.ScaleHolder;
import dev.mpt.optim.amp.StepOutcome;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * char-gpt's one optimizer with two parameter groups steps bit for bit as the two optimizers
 * sharing one scale that it replaced, on a tiny {@link Gpt}, while no step skips: the groups
 * change who holds the state, not one operation on it.
 */
class CharGptOptimizerTest {

    private static final int VOCAB = 13;
    private static final int T = 8;
    private static final int B = 3;
    private static final double LR = 3e-3;
    private static final double WD = 0.1;

    private static Gpt tinyGpt() {
        return new Gpt(VOCAB, T, 16, 2, 2, 0.1, new SplittableRandom(5));
    }

    private static int[] draw(SplittableRandom rng, int n) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextInt(VOCAB);
        }
        return v;
    }

    private static Tensor loss(Gpt m, int[] ids, int[] targets) {
        Tensor logits = m.forward(CharLstm.ids(ids, B, T));
        return Losses.crossEntropy(logits.reshape(B * T, VOCAB), targets);
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    @Test
    void oneOptimizerWithGroupsEqualsTwoOptimizersSharingAScale() {
        Precision p = Precision.MIXED_FP16;
        Gpt a = tinyGpt();
        AmpOptimizer grouped = CharGpt.optimizer(a, p, LR, WD);
        assertEquals(List.of("decay", "no_decay"), grouped.groups().stream().map(g -> g.name()).toList());

        // the two-optimizer version char-gpt used before parameter groups
        Gpt b = tinyGpt();
        b.to(p.modelDtype());
        Map<Boolean, Map<String, Parameter>> groups = b.decayGroups();
        ScaleHolder scale = ScaleHolder.shared(p.defaultScaler());
        AmpOptimizer decay = AmpOptimizer.builder(groups.get(true), new AdamW(LR, CharGpt.BETA1, CharGpt.BETA2,
                CharGpt.EPS, WD)).precision(p).sharedScale(scale).build();
        AmpOptimizer plain = AmpOptimizer.builder(groups.get(false), new AdamW(LR, CharGpt.BETA1, CharGpt.BETA2,
                CharGpt.EPS, 0)).precision(p).sharedScale(scale).build();

        var rng = new SplittableRandom(9);
        for (int s = 0; s < 4; s++) {
            int[] ids = draw(rng, B * T);
            int[] targets = draw(rng, B * T);
            grouped.zeroGrad();
            grouped.scale(loss(a, ids, targets)).backward();
            StepOutcome o = grouped.step();

            decay.zeroGrad();
            plain.zeroGrad();
            Tensor l = loss(b, ids, targets);
            decay.scale(l).backward();
            plain.scale(l);
            StepOutcome o1 = decay.step();
            StepOutcome o2 = plain.step();
            scale.update();
            assertFalse(o.skipped() || o1.skipped() || o2.skipped(), "step " + s + " skipped");
            assertEquals(scale.scale(), o.nextScale());
        }
        for (var e : a.namedParameters().entrySet()) {
            String n = e.getKey();
            AmpOptimizer owner = groups.get(true).containsKey(n) ? decay : plain;
            assertArrayEquals(bits(b.namedParameters().get(n).value().toFloatArray()), bits(e.getValue().value().toFloatArray()), n);
            assertArrayEquals(bits(owner.masterWeights().master(n)), bits(grouped.masterWeights().master(n)), n);
            for (String st : List.of("exp_avg", "exp_avg_sq")) {
                assertArrayEquals(bits(owner.masterWeights().state(n, st)), bits(grouped.masterWeights().state(n, st)),
                        n + " " + st);
            }
            assertEquals(4, grouped.masterWeights().steps(n), n);
        }
    }
}
