package dev.mpt.optim.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Schedules against their closed forms, evaluated independently in double. */
class LearningRateScheduleTest {

    @Test
    void constant() {
        var s = LearningRateSchedule.constant(0.25);
        for (long t : new long[] {0, 1, 1000, Long.MAX_VALUE}) {
            assertEquals(0.25, s.at(t));
        }
    }

    @Test
    void stepDecayHalvesEveryStepSize() {
        var s = LearningRateSchedule.stepDecay(0.8, 10, 0.5);
        assertEquals(0.8, s.at(0));
        assertEquals(0.8, s.at(9));
        assertEquals(0.4, s.at(10));
        assertEquals(0.4, s.at(19));
        assertEquals(0.1, s.at(30));
        // 0.1 is not a power of two: compare with the product of gammas, within 1e-15 relative
        var tenth = LearningRateSchedule.stepDecay(1, 3, 0.1);
        double want = 1;
        for (int k = 0; k < 7; k++) {
            assertEquals(want, tenth.at(3L * k + 2), want * 1e-15);
            want *= 0.1;
        }
    }

    @Test
    void cosineHitsEndpointsMidpointAndQuarters() {
        var s = LearningRateSchedule.cosine(1.0, 100, 0.1);
        assertEquals(1.0, s.at(0));
        assertEquals(0.55, s.at(50), 1e-15);                         // cos(pi/2) = 0
        assertEquals(0.1 + 0.9 * (1 + Math.sqrt(0.5)) / 2, s.at(25), 1e-15);
        assertEquals(0.1 + 0.9 * (1 - Math.sqrt(0.5)) / 2, s.at(75), 1e-15);
        assertEquals(0.1, s.at(100));
        assertEquals(0.1, s.at(10_000), "holds at minLr after totalSteps");
        for (long t = 1; t <= 100; t++) {
            assertTrue(s.at(t) <= s.at(t - 1), "non-increasing at " + t);
        }
    }

    @Test
    void warmupThenCosineComposes() {
        var cosine = LearningRateSchedule.cosine(0.4, 20, 0);
        var s = LearningRateSchedule.linearWarmup(4, 0.0, cosine);
        assertEquals(0.0, s.at(0));
        assertEquals(0.1, s.at(1), 1e-17);
        assertEquals(0.2, s.at(2), 1e-17);
        assertEquals(0.3, s.at(3), 1e-16);
        assertEquals(0.4, s.at(4));                                // cosine's own step 0
        assertEquals(0.2, s.at(14), 1e-16);                        // cosine's midpoint
        assertEquals(0.0, s.at(24));
        var fromHalf = LearningRateSchedule.linearWarmup(2, 0.5, LearningRateSchedule.constant(2));
        assertEquals(1.0, fromHalf.at(0));
        assertEquals(1.5, fromHalf.at(1));
        assertEquals(2.0, fromHalf.at(2));
    }

    @Test
    void rejectsBadArguments() {
        assertMessage("lr", () -> LearningRateSchedule.constant(-1));
        assertMessage("lr", () -> LearningRateSchedule.constant(Double.NaN));
        assertMessage("stepSize", () -> LearningRateSchedule.stepDecay(1, 0, 0.5));
        assertMessage("gamma", () -> LearningRateSchedule.stepDecay(1, 5, 0));
        assertMessage("gamma", () -> LearningRateSchedule.stepDecay(1, 5, 1.5));
        assertMessage("totalSteps", () -> LearningRateSchedule.cosine(1, 0, 0));
        assertMessage("minLr", () -> LearningRateSchedule.cosine(1, 10, 2));
        assertMessage("baseLr", () -> LearningRateSchedule.cosine(Double.POSITIVE_INFINITY, 10, 0));
        assertMessage("warmupSteps", () -> LearningRateSchedule.linearWarmup(0, 0, LearningRateSchedule.constant(1)));
        assertMessage("startFactor", () -> LearningRateSchedule.linearWarmup(3, 1.5, LearningRateSchedule.constant(1)));
        assertThrows(NullPointerException.class, () -> LearningRateSchedule.linearWarmup(3, 0, null));
        assertMessage("step", () -> LearningRateSchedule.constant(1).at(-1));
        assertMessage("step", () -> LearningRateSchedule.cosine(1, 10, 0).at(-5));
        assertMessage("step", () -> LearningRateSchedule.linearWarmup(3, 0, LearningRateSchedule.constant(1)).at(-1));
    }

    private static void assertMessage(String part, Runnable r) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
