package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import dev.mpt.nn.Module;
import dev.mpt.optim.GradientClipping;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Shards fall on block boundaries within parameters, and stay within one block of an even split. */
class ShardLayoutTest {

    @Test
    void shardsAreWholeBlocksOfTheParameters() {
        Module m = DpFixtures.mlp();
        m.to(DType.FP16);
        // parameters: 0.weight 4800 (blocks 4096 + 704), 0.bias 200, 2.weight 1000, 2.bias 5: 6005 elements
        ShardLayout four = ShardLayout.of(m.namedParameters(), 4);
        assertArrayEquals(new int[] {0, 4096, 4800, 5000, 6000}, four.half.blockStart);
        // even split targets 1501, 3002, 4503 move up to the next block start: 4096, 4096, 4800
        assertArrayEquals(new int[] {0, 4096, 4096, 4800, 6005}, four.half.shards.bounds());
        assertEquals(0, four.half.shards.length(1), "a rank may own nothing");
        assertTrue(four.fp32.isEmpty());
        for (int world = 1; world <= 7; world++) {
            ShardLayout l = ShardLayout.of(m.namedParameters(), world);
            for (int r = 0; r < world; r++) {
                int start = l.half.shards.start(r);
                assertTrue(start == 6005 || Arrays.binarySearch(l.half.blockStart, start) >= 0,
                        "rank " + r + " of " + world + " starts at block boundary " + start);
                assertTrue(l.half.shards.length(r) <= 6005 / world + GradientClipping.BLOCK);
                assertEquals(l.half.blockCount(r) == 0, l.half.shards.length(r) == 0);
            }
        }
    }

    @Test
    void normalizationParametersKeptFp32FormTheirOwnGroup() {
        Module m = DpFixtures.mlpWithNorm();
        m.to(DType.BF16);
        ShardLayout l = ShardLayout.of(m.namedParameters(), 2);
        assertEquals(DType.BF16, l.half.dtype);
        assertEquals(400, l.fp32.total, "LayerNorm's weight and bias, 200 each");
        assertEquals(6005, l.half.total);
        assertEquals("0.weight[200,24]BF16;0.bias[200]BF16;1.weight[200]FP32;1.bias[200]FP32;3.weight[5,200]BF16;"
                + "3.bias[5]BF16", l.signature());
    }
}
