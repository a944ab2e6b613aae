package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every {@link TransposeKernel} of this JVM writes {@code dst[d + p*w + i] = x[src + i*ld + p]}
 * for its {@code rows(w)} rows and {@code cols} columns, bit for bit (NaN payloads and signed
 * zeros included: it is a copy), and nothing else: at column counts around the 8- and 16-column
 * blocks of the vector transpose, with row strides and offsets that are not multiples of a vector.
 */
class TransposeKernelTest {

    @Test
    void transposesExactlyTheGroupIntoTheSliver() {
        TransposeKernel vector = Simd.select(TransposeKernel.class, "dev.mpt.core.kernel.VectorTranspose",
                ScalarTranspose::new);
        for (TransposeKernel kernel : new TransposeKernel[] {new ScalarTranspose(), vector, GemmOperand.TRANSPOSE}) {
            SplittableRandom rng = new SplittableRandom(7);
            for (int w : new int[] {6, 8, 12, 16, 24, 48}) {
                int rows = kernel.rows(w);
                assertTrue(rows >= 1, kernel + " rows(" + w + ") = " + rows);
                if (rows > w) {
                    continue; // packing takes such narrow slivers row by row
                }
                for (int cols : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100}) {
                    int ld = cols + rng.nextInt(5);
                    int src = rng.nextInt(7);
                    int d = rng.nextInt(7);
                    float[] x = new float[src + rows * ld + 3];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = Float.intBitsToFloat(rng.nextInt());
                    }
                    float[] dst = new float[d + cols * w + w];
                    float sentinel = Float.intBitsToFloat(0x7fc0dead);
                    Arrays.fill(dst, sentinel);
                    kernel.transpose(x, src, ld, cols, w, dst, d);
                    for (int k = 0; k < dst.length; k++) {
                        int rel = k - d;
                        int p = Math.floorDiv(rel, w);
                        int i = Math.floorMod(rel, w);
                        boolean written = rel >= 0 && p < cols && i < rows;
                        int expected = Float.floatToRawIntBits(written ? x[src + i * ld + p] : sentinel);
                        assertEquals(expected, Float.floatToRawIntBits(dst[k]),
                                kernel.getClass().getSimpleName() + " w=" + w + " cols=" + cols + " at p=" + p + " i=" + i);
                    }
                }
            }
        }
    }
}
