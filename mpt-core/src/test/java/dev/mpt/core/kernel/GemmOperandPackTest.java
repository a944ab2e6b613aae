package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Packing is a pure copy with exact widening: every packed element equals the definition
 * {@code dst[dOff + s*cols*w + p*w + i] = op(X)[r0 + s*w + i][c0 + p]} (zero past the last row),
 * bit for bit, for FP32, FP16 and BF16 storage, read plain or transposed, at awkward sizes; a
 * transposed operand packed in two column ranges ({@code packColumns}) gives the same slivers.
 */
class GemmOperandPackTest {

    @Test
    void packedSliversMatchTheDefinition() {
        SplittableRandom rng = new SplittableRandom(31);
        int[] sizes = {1, 3, 6, 7, 16, 17, 300};
        for (int trial = 0; trial < 300; trial++) {
            int type = rng.nextInt(3);
            boolean trans = rng.nextBoolean();
            int rows = sizes[rng.nextInt(sizes.length)];
            int cols = sizes[rng.nextInt(sizes.length)];
            int r0 = rng.nextInt(3);
            int c0 = rng.nextInt(3);
            int w = new int[] {6, 8, 16, 48}[rng.nextInt(4)];
            // op(X) has at least r0 + rows rows and c0 + cols columns; storage is its transpose when trans
            int opRows = r0 + rows;
            int opCols = c0 + cols;
            int storedRows = trans ? opCols : opRows;
            int storedCols = trans ? opRows : opCols;
            int ld = storedCols + rng.nextInt(3);
            int off = rng.nextInt(4);
            int len = off + storedRows * ld;
            float[] f = new float[len];
            short[] h = new short[len];
            for (int i = 0; i < len; i++) {
                f[i] = (float) rng.nextGaussian();
                h[i] = (short) rng.nextInt(65536);
            }
            GemmOperand x = switch (type) {
                case 0 -> GemmOperand.of(f, off, ld, trans);
                case 1 -> GemmOperand.of16(h, false, off, ld, trans);
                default -> GemmOperand.of16(h, true, off, ld, trans);
            };
            int slivers = (rows + w - 1) / w;
            int dOff = rng.nextInt(5);
            float[] dst = new float[dOff + slivers * cols * w];
            java.util.Arrays.fill(dst, Float.NaN);
            x.pack(r0, rows, c0, cols, w, dst, dOff);
            if (trans) {
                // two threads' column ranges of one block write exactly what the whole pack does
                float[] halves = new float[dst.length];
                java.util.Arrays.fill(halves, Float.NaN);
                int mid = rng.nextInt(cols + 1);
                x.packColumns(r0, rows, c0, cols, mid, cols, w, halves, dOff);
                x.packColumns(r0, rows, c0, cols, 0, mid, w, halves, dOff);
                for (int i = 0; i < dst.length; i++) {
                    assertEquals(Float.floatToRawIntBits(dst[i]), Float.floatToRawIntBits(halves[i]),
                            "packColumns split at " + mid + ", index " + i);
                }
            }
            for (int s = 0; s < slivers; s++) {
                for (int p = 0; p < cols; p++) {
                    for (int i = 0; i < w; i++) {
                        int r = r0 + s * w + i;
                        int c = c0 + p;
                        float expected = 0f;
                        if (s * w + i < rows) {
                            int at = off + (trans ? c * ld + r : r * ld + c);
                            expected = switch (type) {
                                case 0 -> f[at];
                                case 1 -> Float.float16ToFloat(h[at]);
                                default -> Float.intBitsToFloat(h[at] << 16);
                            };
                        }
                        assertEquals(Float.floatToRawIntBits(expected),
                                Float.floatToRawIntBits(dst[dOff + s * cols * w + p * w + i]),
                                "type " + type + " trans " + trans + " rows " + rows + " cols " + cols
                                        + " at s=" + s + " p=" + p + " i=" + i);
                    }
                }
            }
        }
    }
}
