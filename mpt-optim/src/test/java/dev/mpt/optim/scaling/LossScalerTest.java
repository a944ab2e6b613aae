package dev.mpt.optim.scaling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class LossScalerTest {

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(LossScaler.class);

    @BeforeEach
    void captureLogs() {
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        logger.detachAppender(logs);
    }

    private long warnings() {
        return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).count();
    }

    @Test
    void dynamicDefaults() {
        DynamicLossScaler s = LossScaler.dynamic();
        assertEquals(65536.0, s.scale());
        assertEquals(2.0, s.growthFactor());
        assertEquals(0.5, s.backoffFactor());
        assertEquals(2000, s.growthInterval());
        assertEquals(1.0, s.minScale());
        assertEquals(0x1p24, s.maxScale());
        assertEquals(1, s.hysteresis());
        assertEquals(new ScalerState(65536.0, 0, 1, 0, false), s.state());
    }

    @Test
    void growsAfterIntervalOfCleanStepsAndNotBefore() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(8).growthInterval(3).build();
        for (int i = 1; i <= 2; i++) {
            ScaleDecision u = s.adjust(true);
            assertFalse(u.skipped());
            assertEquals(8, u.scaleUsed());
            assertEquals(8, u.nextScale());
            s = u.next();
            assertEquals(i, s.state().cleanSteps());
        }
        ScaleDecision u = s.adjust(true);
        assertEquals(16, u.nextScale());
        assertEquals(0, u.next().state().cleanSteps());
    }

    @Test
    void overflowSkipsBacksOffAndRestartsCounter() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(1024).growthInterval(3).build();
        s = s.adjust(true).next().adjust(true).next();
        ScaleDecision u = s.adjust(false);
        assertTrue(u.skipped());
        assertEquals(1024, u.scaleUsed());
        assertEquals(512, u.nextScale());
        assertFalse(u.atMinimumAndOverflowing());
        assertEquals(new ScalerState(512, 0, 1, 1, false), u.next().state());
        // the counter restarted: three more clean steps are needed to grow
        s = u.next().adjust(true).next().adjust(true).next();
        assertEquals(512, s.scale());
        assertEquals(1024, s.adjust(true).nextScale());
    }

    @Test
    void adjustLeavesTheOriginalUnchanged() {
        DynamicLossScaler s = LossScaler.dynamic();
        ScalerState before = s.state();
        ScaleDecision u = s.adjust(false);
        assertEquals(before, s.state());
        assertNotEquals(s, u.next());
    }

    @Test
    void scaleStaysWithinBounds() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(4).minScale(2).maxScale(8).growthInterval(1).build();
        s = s.adjust(true).next();
        assertEquals(8, s.scale());
        s = s.adjust(true).next();
        assertEquals(8, s.scale(), "growth is capped at maxScale");
        s = s.adjust(false).next().adjust(false).next();
        assertEquals(2, s.scale());
        ScaleDecision u = s.adjust(false);
        assertEquals(2, u.nextScale(), "back-off is capped at minScale");
        assertTrue(u.skipped());
    }

    @Test
    void backoffFactorClampsToMinimumExactly() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(3).minScale(2).backoffFactor(0.5).build();
        assertEquals(2, s.adjust(false).nextScale());
    }

    @Test
    void hysteresisToleratesConsecutiveOverflowsButAlwaysSkips() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(64).hysteresis(3).build();
        ScaleDecision u1 = s.adjust(false);
        assertTrue(u1.skipped());
        assertEquals(64, u1.nextScale());
        assertEquals(2, u1.next().state().hysteresisLeft());
        ScaleDecision u2 = u1.next().adjust(false);
        assertTrue(u2.skipped());
        assertEquals(64, u2.nextScale());
        ScaleDecision u3 = u2.next().adjust(false);
        assertTrue(u3.skipped());
        assertEquals(32, u3.nextScale(), "third consecutive overflow backs off");
        ScaleDecision u4 = u3.next().adjust(false);
        assertEquals(16, u4.nextScale(), "once backing off, every further consecutive overflow backs off");
        assertEquals(4, u4.next().state().skippedSteps());
        // a clean step refills the hysteresis
        LossScaler clean = u4.next().adjust(true).next();
        assertEquals(3, clean.state().hysteresisLeft());
        assertEquals(16, clean.adjust(false).nextScale());
    }

    @Test
    void overflowAtMinimumIsFlaggedAndWarnedOncePerStreak() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(2).minScale(1).build();
        ScaleDecision u = s.adjust(false);
        assertFalse(u.atMinimumAndOverflowing(), "scale 2 was above the minimum");
        assertEquals(0, warnings());
        s = u.next();
        for (int i = 0; i < 5; i++) {
            u = s.adjust(false);
            assertTrue(u.skipped());
            assertTrue(u.atMinimumAndOverflowing());
            assertEquals(1, u.nextScale());
            s = u.next();
        }
        assertEquals(1, warnings(), "one warning for the whole streak");
        assertTrue(warnings() == 1 && logs.list.getFirst().getFormattedMessage().contains("minimum"));
        u = s.adjust(true);
        assertFalse(u.atMinimumAndOverflowing());
        assertFalse(u.next().state().atMinimumOverflowing());
        u = u.next().adjust(false);
        assertTrue(u.atMinimumAndOverflowing());
        assertEquals(2, warnings(), "a new streak warns again");
    }

    @Test
    void fixedNeverChangesButSkipsAndReports() {
        FixedLossScaler s = LossScaler.fixed(128);
        ScaleDecision clean = s.adjust(true);
        assertFalse(clean.skipped());
        assertSame(s, clean.next());
        ScaleDecision bad = s.adjust(false);
        assertTrue(bad.skipped());
        assertEquals(128, bad.scaleUsed());
        assertEquals(128, bad.nextScale());
        assertTrue(bad.atMinimumAndOverflowing());
        assertEquals(1, bad.next().state().skippedSteps());
        ScaleDecision again = bad.next().adjust(false);
        assertEquals(2, again.next().state().skippedSteps());
        assertEquals(1, warnings());
        ScaleDecision recovered = again.next().adjust(true);
        assertFalse(recovered.next().state().atMinimumOverflowing());
        assertEquals(2, recovered.next().state().skippedSteps());
        assertEquals(128, s.minScale());
    }

    @Test
    void fixedValidatesScale() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            var e = assertThrows(IllegalArgumentException.class, () -> LossScaler.fixed(bad));
            assertTrue(e.getMessage().contains("scale"), e.getMessage());
        }
    }

    @Test
    void builderValidatesEveryArgument() {
        assertMessage("initialScale", () -> LossScaler.dynamicBuilder().initialScale(0).build());
        assertMessage("initialScale", () -> LossScaler.dynamicBuilder().initialScale(Double.NaN).build());
        assertMessage("growthFactor", () -> LossScaler.dynamicBuilder().growthFactor(1).build());
        assertMessage("growthFactor", () -> LossScaler.dynamicBuilder().growthFactor(Double.POSITIVE_INFINITY).build());
        assertMessage("backoffFactor", () -> LossScaler.dynamicBuilder().backoffFactor(1).build());
        assertMessage("backoffFactor", () -> LossScaler.dynamicBuilder().backoffFactor(0).build());
        assertMessage("growthInterval", () -> LossScaler.dynamicBuilder().growthInterval(0).build());
        assertMessage("hysteresis", () -> LossScaler.dynamicBuilder().hysteresis(0).build());
        assertMessage("minScale", () -> LossScaler.dynamicBuilder().minScale(-1).build());
        assertMessage("maxScale", () -> LossScaler.dynamicBuilder().maxScale(Double.POSITIVE_INFINITY).build());
        assertMessage("minScale <= initialScale <= maxScale",
                () -> LossScaler.dynamicBuilder().initialScale(0x1p25).build());
        assertMessage("minScale <= initialScale <= maxScale",
                () -> LossScaler.dynamicBuilder().initialScale(0.5).build());
    }

    private static void assertMessage(String part, Runnable r) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void toStringPrintsEveryHyperParameter() {
        String s = LossScaler.dynamicBuilder().initialScale(256).growthFactor(4).backoffFactor(0.25)
                .growthInterval(77).minScale(0.5).maxScale(1024).hysteresis(5).build().toString();
        for (String part : new String[] {"scale=256.0", "growthFactor=4.0", "backoffFactor=0.25",
                "growthInterval=77", "minScale=0.5", "maxScale=1024.0", "hysteresis=5"}) {
            assertTrue(s.contains(part), s);
        }
        assertTrue(LossScaler.fixed(8).toString().contains("scale=8.0"));
    }

    @Test
    void stateRoundTripsThroughMap() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(0x1p10).hysteresis(2).growthInterval(5).build();
        s = s.adjust(true).next().adjust(true).next().adjust(false).next();
        Map<String, String> saved = s.state().toMap();
        ScalerState restored = ScalerState.fromMap(saved);
        assertEquals(s.state(), restored);
        LossScaler fresh = LossScaler.dynamicBuilder().initialScale(0x1p10).hysteresis(2).growthInterval(5).build();
        assertEquals(s, fresh.restore(restored));
        // an odd scale round-trips exactly too
        var odd = new ScalerState(Math.PI * 1e3, 3, 1, 12345678901L, true);
        assertEquals(odd, ScalerState.fromMap(odd.toMap()));
    }

    @Test
    void fromMapRejectsMissingOrBadValues() {
        Map<String, String> good = new ScalerState(16, 0, 1, 0, false).toMap();
        for (String key : good.keySet()) {
            Map<String, String> m = new HashMap<>(good);
            m.remove(key);
            assertMessage(key, () -> ScalerState.fromMap(m));
        }
        Map<String, String> notNumber = new HashMap<>(good);
        notNumber.put("scale", "big");
        assertMessage("parse", () -> ScalerState.fromMap(notNumber));
        Map<String, String> negative = new HashMap<>(good);
        negative.put("skippedSteps", "-1");
        assertMessage("skippedSteps", () -> ScalerState.fromMap(negative));
        Map<String, String> nan = new HashMap<>(good);
        nan.put("scale", "NaN");
        assertMessage("scale", () -> ScalerState.fromMap(nan));
        Map<String, String> flag = new HashMap<>(good);
        flag.put("atMinimumOverflowing", "yes");
        assertMessage("atMinimumOverflowing", () -> ScalerState.fromMap(flag));
        assertThrows(NullPointerException.class, () -> ScalerState.fromMap(null));
    }

    @Test
    void restoreRejectsStatesThatCannotBelongToTheScaler() {
        DynamicLossScaler s = LossScaler.dynamicBuilder().growthInterval(10).hysteresis(2).build();
        assertMessage("outside", () -> s.restore(new ScalerState(0x1p25, 0, 1, 0, false)));
        assertMessage("outside", () -> s.restore(new ScalerState(0.5, 0, 1, 0, false)));
        assertMessage("cleanSteps", () -> s.restore(new ScalerState(4, 10, 1, 0, false)));
        assertMessage("hysteresisLeft", () -> s.restore(new ScalerState(4, 0, 3, 0, false)));
        assertThrows(NullPointerException.class, () -> s.restore(null));
        FixedLossScaler f = LossScaler.fixed(4);
        assertMessage("fixed", () -> f.restore(new ScalerState(8, 0, 1, 0, false)));
        assertEquals(7, f.restore(new ScalerState(4, 0, 1, 7, false)).state().skippedSteps());
    }

    @Test
    void longRunOfCleanStepsDoublesUpToMaximum() {
        LossScaler s = LossScaler.dynamicBuilder().initialScale(1).growthInterval(2).build();
        for (int i = 0; i < 2 * 30; i++) {
            s = s.adjust(true).next();
        }
        assertEquals(0x1p24, s.scale());
        assertEquals(0, s.state().skippedSteps());
    }
}
