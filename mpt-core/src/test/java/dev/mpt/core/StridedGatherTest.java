package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The tiled gather of transposed layouts copies exactly what its plain twin, row by row, copies. */
class StridedGatherTest {

    @Test
    void tiledGatherEqualsRowGatherOnPermutedLayouts() {
        SplittableRandom rng = new SplittableRandom(11);
        int[] sizes = {2, 3, 15, 16, 17, 33};
        for (int trial = 0; trial < 200; trial++) {
            int rank = 2 + rng.nextInt(3);
            int[] base = new int[rank];
            for (int d = 0; d < rank; d++) {
                base[d] = d < rank - 2 ? 1 + rng.nextInt(3) : sizes[rng.nextInt(sizes.length)];
            }
            // storage of a row-major tensor of shape 'base' with padded rows, viewed with the last two dims swapped
            int pad = rng.nextInt(3);
            int[] baseStrides = new int[rank];
            int stride = 1;
            for (int d = rank - 1; d >= 0; d--) {
                baseStrides[d] = stride;
                stride *= base[d] + (d == rank - 1 ? pad : 0);
            }
            int off = rng.nextInt(5);
            int[] shape = base.clone();
            int[] strides = baseStrides.clone();
            swap(shape, rank - 1, rank - 2);
            swap(strides, rank - 1, rank - 2);
            assertTrue(Strided.transposedRows(shape, strides));
            int len = off + stride;
            int numel = Strided.numel("test", shape);

            float[] f = new float[len];
            short[] h = new short[len];
            for (int i = 0; i < len; i++) {
                f[i] = (float) rng.nextGaussian();
                h[i] = (short) rng.nextInt(65536);
            }
            int dstOff = rng.nextInt(4);
            float[] fTiled = new float[dstOff + numel];
            float[] fRows = new float[dstOff + numel];
            Strided.gatherTiled(f, off, shape, strides, fTiled, dstOff);
            Strided.gatherRows(f, off, shape, strides, fRows, dstOff);
            assertArrayEquals(fRows, fTiled);
            short[] hTiled = new short[dstOff + numel];
            short[] hRows = new short[dstOff + numel];
            Strided.gatherTiled(h, off, shape, strides, hTiled, dstOff);
            Strided.gatherRows(h, off, shape, strides, hRows, dstOff);
            assertArrayEquals(hRows, hTiled);
        }
    }

    @Test
    void contiguousOfTransposeIsTheTranspose() {
        SplittableRandom rng = new SplittableRandom(12);
        int m = 37;
        int n = 21;
        float[] x = new float[m * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        Tensor t = Tensor.of(x, m, n).t().contiguous();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                assertTrue(Float.floatToRawIntBits(x[j * n + i]) == Float.floatToRawIntBits(t.get(i, j)));
            }
        }
    }

    @Test
    void rowMajorAndVectorLayoutsAreNotTiled() {
        assertFalse(Strided.transposedRows(new int[] {4, 5}, new int[] {5, 1}));
        assertFalse(Strided.transposedRows(new int[] {1, 5}, new int[] {1, 7}));
        assertFalse(Strided.transposedRows(new int[] {5}, new int[] {2}));
        assertFalse(Strided.transposedRows(new int[] {4, 5}, new int[] {10, 2}));
    }

    @Test
    void denseLayoutsArePermutationsOfContiguousBlocks() {
        assertTrue(Strided.isDense(new int[] {4, 5}, new int[] {5, 1}));
        assertTrue(Strided.isDense(new int[] {5, 4}, new int[] {1, 5}));
        assertTrue(Strided.isDense(new int[] {2, 3, 4}, new int[] {4, 8, 1}));
        assertTrue(Strided.isDense(new int[] {1, 3}, new int[] {99, 1}));
        assertFalse(Strided.isDense(new int[] {4, 5}, new int[] {6, 1}));
        assertFalse(Strided.isDense(new int[] {4, 5}, new int[] {0, 1}));
        assertFalse(Strided.isDense(new int[] {5, 4}, new int[] {2, 10}));
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
