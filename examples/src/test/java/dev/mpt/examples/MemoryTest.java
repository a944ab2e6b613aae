package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Sequential;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryTest {

    @Test
    void activationsCountEachLayerOutputOnceAndSkipViews() {
        Sequential mlp = FashionMlp.model(1, 16);
        mlp.to(DType.FP16);
        Tensor x = Tensor.zeros(DType.FP16, 4, 1, 28, 28);
        // Flatten is a view (not counted); Linear, ReLU, Linear, ReLU: [4, 16] each; Linear: [4, 10]; 2 bytes each
        long expected = 2L * (4 * 16 * 4 + 4 * 10);
        assertEquals(Map.of(DType.FP16, expected), Memory.activations(mlp, x));
        assertTrue(mlp.isTraining(), "the model's mode is restored");
    }

    @Test
    void weightsAreCountedByDtype() {
        Sequential mlp = FashionMlp.model(1, 16);
        long params = 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10;
        assertEquals(Map.of(DType.FP32, 4 * params), Memory.weights(mlp));
        mlp.to(DType.BF16);
        assertEquals(Map.of(DType.BF16, 2 * params), Memory.weights(mlp));
    }

    @Test
    void formatsBytes() {
        assertEquals("1023 B", Memory.format(1023));
        assertEquals("1.5 KiB", Memory.format(1536));
        assertEquals("3.00 MiB", Memory.format(3L << 20));
        assertEquals("-", Memory.format(Map.of()));
        assertEquals("FP32 8 B + FP16 2.0 KiB", Memory.format(Map.of(DType.FP16, 2048L, DType.FP32, 8L)));
    }

    @Test
    void tableFormatsScalesAndRejectsRaggedRows() {
        assertEquals("2^16", ComparisonTable.scale(65536));
        assertEquals("2^0", ComparisonTable.scale(1));
        assertEquals("3", ComparisonTable.scale(3));
        assertEquals("0.500", ComparisonTable.scale(0.5));
        var t = new ComparisonTable(List.of("a", "bb"));
        t.row("x", "1");
        assertEquals("| a   | bb  |\n| --- | --- |\n| x   | 1   |\n", t.markdown());
        var e = assertThrows(IllegalArgumentException.class, () -> t.row("only one"));
        assertTrue(e.getMessage().contains("1 cells"), e.getMessage());
    }

    @Test
    void runningMeanAveragesWindowsAndDropsNonFinitePoints() {
        double[][] xy = {{1, 2, 3, 4, 5}, {1, Double.POSITIVE_INFINITY, 3, 5, 7}};
        double[][] m = Charts.runningMean(xy, 2);
        assertArrayEquals(new double[] {1, 3.5, 5}, m[0]);
        assertArrayEquals(new double[] {1, 4, 7}, m[1]);
    }
}
