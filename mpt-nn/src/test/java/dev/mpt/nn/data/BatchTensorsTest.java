package dev.mpt.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import org.junit.jupiter.api.Test;

class BatchTensorsTest {

    @Test
    void inputsAreFp32CopiesInTheFeatureShape() {
        float[] f = new float[2 * 2 * 3];
        for (int i = 0; i < f.length; i++) {
            f[i] = i / 4f;
        }
        var b = new Batch(f, new int[] {1, 0}, 2, new int[] {1, 2, 3});
        Tensor x = b.inputs();
        assertEquals(DType.FP32, x.dtype());
        assertArrayEquals(new int[] {2, 1, 2, 3}, x.shape());
        assertArrayEquals(f, x.toFloatArray());
        Tensor flat = b.flatInputs();
        assertArrayEquals(new int[] {2, 6}, flat.shape());
        assertArrayEquals(f, flat.toFloatArray());
        f[0] = 99; // a reused batch buffer being overwritten does not reach the tensors
        assertEquals(0f, x.get(0, 0, 0, 0));
        assertEquals(0f, flat.get(0, 0));
    }
}
