package dev.mpt.core.random;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SplitMix64Test {

    /**
     * The JDK's SplittableRandom(seed) runs the same SplitMix64 algorithm (golden gamma, Stafford
     * mix 13), so its nextLong sequence is an independent reference.
     */
    @Test
    void splitMix64MatchesTheJdkAndResumesFromItsState() {
        for (long seed : new long[] {0, 1, -7, 0x1234_5678_9abcL}) {
            var ref = new SplittableRandom(seed);
            var r = SplitMix64.seeded(seed);
            for (int i = 0; i < 1000; i++) {
                assertEquals(ref.nextLong(), r.nextLong(), "seed " + seed + " draw " + i);
            }
        }
        var a = SplitMix64.seeded(42);
        a.nextInt(10);
        a.nextDouble();
        var b = SplitMix64.ofState(a.state());
        for (int i = 0; i < 100; i++) {
            assertEquals(a.nextInt(1000), b.nextInt(1000));
        }
        var c = SplitMix64.seeded(0);
        c.setState(a.state());
        assertEquals(a.nextLong(), c.nextLong());
    }
}
