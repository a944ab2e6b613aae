package dev.mpt.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.optim.schedule.LearningRateSchedule;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptimizerTest {

    @Test
    void toStringShowsEveryHyperParameter() {
        assertEquals("Sgd[lr=0.01, momentum=0.9, dampening=0.0, weightDecay=1.0E-4, nesterov=true]",
                new Sgd(0.01, 0.9, 1e-4, true).toString());
        assertEquals("Adam[lr=0.001, beta1=0.9, beta2=0.999, eps=1.0E-8, weightDecay=0.0]", new Adam(1e-3).toString());
        assertEquals("AdamW[lr=0.001, beta1=0.8, beta2=0.99, eps=1.0E-6, weightDecay=0.05]",
                new AdamW(1e-3, 0.8, 0.99, 1e-6, 0.05).toString());
        String cosine = new Sgd(0.1).withSchedule(LearningRateSchedule.cosine(0.1, 100, 0)).toString();
        assertTrue(cosine.startsWith("Sgd[lr=CosineSchedule[baseLr=0.1, totalSteps=100, minLr=0.0]"), cosine);
    }

    @Test
    void stateNamesFollowTheRule() {
        assertEquals(List.of(), new Sgd(0.1).stateNames());
        assertEquals(List.of("momentum"), new Sgd(0.1, 0.9).stateNames());
        assertEquals(List.of("exp_avg", "exp_avg_sq"), new Adam(1e-3).stateNames());
        assertEquals(List.of("exp_avg", "exp_avg_sq"), new AdamW(1e-3).stateNames());
    }

    /** One step of each optimizer against the rule it wraps, on the same arrays. */
    @Test
    void applyDelegatesToTheRule() {
        float[] g = {0.5f, -2f, 1e-3f};
        float[] p1 = {1f, 2f, 3f};
        float[] p2 = p1.clone();
        float[] buf1 = new float[3];
        float[] buf2 = new float[3];
        new Sgd(0.1, 0.9, 0.01, false).apply(0.1, 1, p1, g, new float[][] {buf1}, 0, 3);
        new SgdRule(0.9, 0, 0.01, false).apply(0.1, 1, p2, g, buf2, 0, 3);
        assertArrayEquals(p2, p1);
        assertArrayEquals(buf2, buf1);
        float[] m1 = new float[3];
        float[] v1 = new float[3];
        float[] m2 = new float[3];
        float[] v2 = new float[3];
        new AdamW(1e-2).apply(1e-2, 1, p1, g, new float[][] {m1, v1}, 0, 3);
        AdamRule.adamW().apply(1e-2, 1, p2, g, m2, v2, 0, 3);
        assertArrayEquals(p2, p1);
        assertArrayEquals(v2, v1);
        var e = assertThrows(IllegalArgumentException.class, () -> new Adam(1e-3).apply(1e-3, 1, p1, g,
                new float[][] {m1}, 0, 3));
        assertTrue(e.getMessage().contains("needs 2 state arrays"), e.getMessage());
    }

    @Test
    void badHyperParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sgd(-0.1));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.1, -0.9));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.1, 0, 0, true));
        assertThrows(IllegalArgumentException.class, () -> new Adam(0.1, 1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.1, 0.9, 0.999, 0, 0));
        var e = assertThrows(IllegalArgumentException.class, () -> new Adam(LearningRateSchedule.constant(0.1),
                AdamRule.adamW()));
        assertTrue(e.getMessage().contains("use AdamW"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AdamW(LearningRateSchedule.constant(0.1),
                AdamRule.adam()));
        assertTrue(e.getMessage().contains("use Adam"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new Sgd(null, SgdRule.of(0)));
        assertThrows(NullPointerException.class, () -> new Sgd(0.1).withSchedule(null));
    }
}
