package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSummaryTest {

    private static Sequential model() {
        return new Sequential(new Flatten(), new Linear(4, 3, 1), new ReLU(),
                new Sequential(new Linear(3, 2, 2), new BatchNorm1d(2)));
    }

    @Test
    void rowsHoldOutputShapesAndParameters() {
        Sequential m = model();
        ModelSummary s = m.summary(5, 1, 2, 2);
        List<ModelSummary.Row> rows = s.rows();
        assertEquals(List.of("0", "1", "2", "3.0", "3.1"), rows.stream().map(ModelSummary.Row::name).toList());
        assertArrayEquals(new int[] {5, 4}, rows.get(0).shape());
        assertArrayEquals(new int[] {5, 3}, rows.get(1).shape());
        assertArrayEquals(new int[] {5, 2}, rows.get(4).shape());
        assertEquals(4 * 3 + 3, rows.get(1).parameters());
        assertEquals(15 * 4, rows.get(1).bytes());
        assertEquals(2 + 2, rows.get(4).parameters());
        assertEquals(15 + 8 + 4, s.totalParameters());
        assertArrayEquals(new int[] {5, 2}, s.output());
        assertTrue(m.isTraining(), "mode restored");
        assertTrue(s.toString().contains("total parameters 27"), s.toString());
    }

    @Test
    void bytesByDtypeAfterConversion() {
        Sequential m = model();
        m.to(DType.FP16);
        ModelSummary s = m.summary(5, 1, 2, 2);
        assertEquals(15 * 2, s.rows().get(1).bytes());
        assertEquals(4 * 4, s.rows().get(4).bytes());             // BatchNorm's parameters stay FP32
        assertEquals(Long.valueOf((15 + 8) * 2), s.memory().parameterBytes().get(DType.FP16));
        assertEquals(Long.valueOf(4 * 4), s.memory().parameterBytes().get(DType.FP32));
    }

    @Test
    void otherModulesListTheirChildrenWithoutShapes() {
        Module custom = new Module() {
            private final Linear a = module("a", new Linear(3, 3, 1));
            private final Linear b = module("b", new Linear(3, 1, 2));

            @Override
            public Tensor forward(Tensor x) {
                return b.forward(a.forward(x).relu());
            }
        };
        ModelSummary s = custom.summary(2, 3);
        assertEquals(2, s.rows().size());
        assertNull(s.rows().get(0).shape());
        assertArrayEquals(new int[] {2, 1}, s.output());
        assertEquals(12 + 4, s.totalParameters());
    }

    @Test
    void badInputShapes() {
        assertEquals("ModelSummary.of: inputShape must have dimensions >= 1 (batch first), got [0, 4]",
                assertThrows(IllegalArgumentException.class, () -> model().summary(0, 4)).getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model().summary(5, 7));
        assertTrue(e.getMessage().startsWith("ModelSummary.of: the model rejects inputs of shape [5, 7] (FP32): "),
                e.getMessage());
    }
}
