package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import org.junit.jupiter.api.Test;

/** Free-standing parameters ({@link Parameter#of}) and their registration in custom modules. */
class ParameterTest {

    /** y = x * scale, with the scale made outside and registered. */
    static final class Scale extends Module {
        final Parameter scale;

        Scale(Parameter p) {
            scale = parameter("scale", p);
        }

        @Override
        public Tensor forward(Tensor x) {
            return x.mul(scale.value());
        }
    }

    @Test
    void aParameterMadeOnItsOwnTrainsInAModule() {
        Parameter p = Parameter.of(Tensor.of(new float[] {2, 3}, 2));
        assertTrue(p.value().requiresGrad());
        assertTrue(p.value().isLeaf());
        assertFalse(p.keepsFp32());
        Scale m = new Scale(p);
        assertSame(p, m.namedParameters().get("scale"));
        m.forward(Tensor.of(new float[] {5, 7}, 2)).sum().backward();
        assertArrayEquals(new float[] {5, 7}, p.grad().toFloatArray());   // d/ds sum(x * s) = x
    }

    @Test
    void keptFp32StaysFp32UnderConversion() {
        Parameter p = Parameter.keptFp32(Tensor.of(new float[] {1, 2}, 2).to(DType.FP16));
        Scale m = new Scale(p);
        assertEquals(DType.FP32, p.dtype());
        m.to(DType.FP16);
        assertEquals(DType.FP32, p.dtype());
        assertTrue(p.keepsFp32());
    }

    @Test
    void badInputs() {
        assertEquals("Parameter.of: init", assertThrows(NullPointerException.class, () -> Parameter.of(null)).getMessage());
        assertEquals("parameter 'scale'", assertThrows(NullPointerException.class, () -> new Scale(null)).getMessage());
    }
}
