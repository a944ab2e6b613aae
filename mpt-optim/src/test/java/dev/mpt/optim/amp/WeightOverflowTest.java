package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mpt.core.Tensor;
import dev.mpt.nn.Module;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.train.StepResult;
import dev.mpt.optim.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Rounding the FP32 masters into FP16 can overflow (|master| >= 65520 rounds to infinity) even
 * though the step's gradients were finite: with {@code Sgd(1e6)} the second step moves masters far
 * beyond FP16's range. Such a step is applied, and it must say which parameters now hold infinite
 * weights, in its outcome and in a warning, instead of leaving them silently.
 */
class WeightOverflowTest {

    /** The parameters whose FP16 weights hold an infinity or NaN. */
    private static List<String> nonFinite(Module m) {
        List<String> out = new ArrayList<>();
        m.namedParameters().forEach((n, p) -> {
            if (!p.value().allFinite()) {
                out.add(n);
            }
        });
        return out;
    }

    @Test
    void anAppliedStepThatOverflowsTheWeightsSaysWhichOnes() {
        Module model = TestModels.mlp(4, 8, 3, 1);
        Trainer t = Trainer.builder(model).precision(Precision.MIXED_FP16).optimizer(new Sgd(1e6))
                .lossScaler(LossScaler.fixed(1)).loss(Losses::crossEntropy).logEvery(0).build();
        Logger logger = (Logger) LoggerFactory.getLogger(AmpOptimizer.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        var rng = new SplittableRandom(2);
        boolean sawOverflow = false;
        try {
            for (int s = 0; s < 4; s++) {
                Tensor x = TestModels.gaussian(rng, 8, 4);
                int[] y = TestModels.labels(rng, 8, 3);
                List<String> before = nonFinite(model);
                StepResult r = t.step(x, y);
                List<String> after = nonFinite(model);
                if (r.outcome().skipped()) {
                    assertEquals(before, after, "a skipped step changes no weight");
                    assertTrue(r.outcome().overflowedWeights().isEmpty());
                    continue;
                }
                assertEquals(after, r.outcome().overflowedWeights(), "step " + r.outcome().step());
                sawOverflow |= !after.isEmpty();
            }
        } finally {
            logger.detachAppender(logs);
        }
        assertTrue(sawOverflow, "Sgd(1e6) overflows FP16 weights within four steps");
        List<ILoggingEvent> warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        assertFalse(warnings.isEmpty(), "the overflow is logged");
        String line = warnings.getFirst().getFormattedMessage();
        assertTrue(line.contains("FP16") && line.contains("1.weight") && line.contains("infinite"), line);
    }
}
