package dev.mpt.optim.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.optim.Adam;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.SgdRule;
import dev.mpt.optim.schedule.LearningRateSchedule;
import dev.mpt.optim.train.OptimizerCheckpoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Step counts are per parameter, as in PyTorch: a parameter's count advances only in steps where
 * it has a gradient, and drives its own Adam bias correction and SGD first momentum step.
 *
 * <p>The scenario: parameters {@code a} and {@code b} start at 0; step 1 gives only {@code a} a
 * gradient of 1, step 2 gives both a gradient of 1. For {@code b}, step 2 is its first step:
 * <ul>
 *   <li>Adam(lr 0.1, betas 0.9/0.999, eps 1e-8): {@code m_hat = 1}, {@code v_hat = 1}, so
 *       {@code b = -0.1 / (1 + 1e-8)}; PyTorch 1.13 gives -0.1 (counting both steps for
 *       {@code b} would give -0.0744);</li>
 *   <li>SGD(lr 0.1, momentum 0.9, dampening 0.5): the first step sets the buffer to the gradient,
 *       so {@code b = -0.1}; PyTorch gives -0.1 (as a second step: {@code buf = 0.5}, -0.05).</li>
 * </ul>
 * Tolerance: the FP32 rule rounds a handful of operations on values near 0.1, so a few FP32 ulps
 * of 0.1 (2^-27 each); 1e-7 is about 13 of them, far below the 0.0256 and 0.05 differences.
 */
class PerParameterStepTest {

    private static final double TOL = 1e-7;

    private static final class Pair extends Module {
        final Parameter a = parameter("a", Tensor.zeros(1));
        final Parameter b = parameter("b", Tensor.zeros(1));

        @Override
        public Tensor forward(Tensor x) {
            return x;
        }
    }

    /** Runs the two steps and returns the optimizer. */
    private static AmpOptimizer twoSteps(Pair m, Optimizer optimizer) {
        AmpOptimizer opt = AmpOptimizer.builder(m, optimizer).build();
        m.a.value().sum().backward();                                   // step 1: only a
        opt.step();
        opt.zeroGrad();
        m.a.value().add(m.b.value()).sum().backward();                  // step 2: a and b
        opt.step();
        opt.zeroGrad();
        return opt;
    }

    @Test
    void adamCountsTheStepsOfEachParameter() {
        Pair m = new Pair();
        AmpOptimizer opt = twoSteps(m, new Adam(0.1));
        assertEquals(-0.1 / (1 + 1e-8), m.b.value().item(), TOL, "b's first step is Adam's step 1");
        assertEquals(2, opt.masterWeights().steps("a"));
        assertEquals(1, opt.masterWeights().steps("b"));
        assertEquals(2, opt.appliedSteps(), "the optimizer's count (the schedule's) still counts every step");
    }

    @Test
    void sgdStartsTheMomentumBufferAtEachParametersFirstStep() {
        Pair m = new Pair();
        twoSteps(m, new Sgd(LearningRateSchedule.constant(0.1), new SgdRule(0.9, 0.5, 0, false)));
        assertEquals(-0.1, m.b.value().item(), TOL, "b's first step sets its buffer to the gradient");
    }

    @Test
    void countsAreCheckpointedAndDerivedForOlderFiles() {
        Pair m = new Pair();
        AmpOptimizer opt = twoSteps(m, new Adam(0.1));
        List<NamedTensor> tensors = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        OptimizerCheckpoint.write("o.", opt, tensors, meta);
        assertEquals("2", meta.get("o.steps.a"));
        assertEquals("1", meta.get("o.steps.b"));

        AmpOptimizer fresh = AmpOptimizer.builder(new Pair(), new Adam(0.1)).build();
        OptimizerCheckpoint.read("o.", new SafetensorsFile(meta, tensors), fresh);
        assertEquals(2, fresh.masterWeights().steps("a"));
        assertEquals(1, fresh.masterWeights().steps("b"));

        // a file written before per-parameter counts: each count is the optimizer's applied steps
        Map<String, String> old = new LinkedHashMap<>(meta);
        old.remove("o.steps.a");
        old.remove("o.steps.b");
        AmpOptimizer older = AmpOptimizer.builder(new Pair(), new Adam(0.1)).build();
        OptimizerCheckpoint.read("o.", new SafetensorsFile(old, tensors), older);
        assertEquals(2, older.masterWeights().steps("a"));
        assertEquals(2, older.masterWeights().steps("b"));

        Map<String, String> partial = new LinkedHashMap<>(meta);
        partial.remove("o.steps.b");
        var e = assertThrows(IllegalArgumentException.class, () -> OptimizerCheckpoint.read("o.",
                new SafetensorsFile(partial, tensors), AmpOptimizer.builder(new Pair(), new Adam(0.1)).build()));
        assertTrue(e.getMessage().contains("o.steps.b"), e.getMessage());

        Map<String, String> tooMany = new LinkedHashMap<>(meta);
        tooMany.put("o.steps.b", "3");
        e = assertThrows(IllegalArgumentException.class, () -> OptimizerCheckpoint.read("o.",
                new SafetensorsFile(tooMany, tensors), AmpOptimizer.builder(new Pair(), new Adam(0.1)).build()));
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("appliedSteps"), e.getMessage());
    }
}
