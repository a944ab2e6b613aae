package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemm} and its parts against a double-precision reference with the error bound derived in
 * {@link GemmCase}, against its plain twin {@link GemmReference}, across micro-kernels and thread
 * counts.
 */
class GemmTest {

    /** Input and output types of the three public entry points (16-bit out is the input type). */
    static final DType[][] TYPES = {
        {DType.FP32, DType.FP32}, {DType.FP16, DType.FP32}, {DType.BF16, DType.FP32},
        {DType.FP16, DType.FP16}, {DType.BF16, DType.BF16},
    };
    static final float[] BETAS = {0f, 1f, -0.75f};

    /** Awkward shapes {m, n, k}: ones, primes, zeros, and a few past the small-problem threshold. */
    private static final int[][] PUBLIC_SHAPES = {
        {1, 1, 1}, {3, 13, 7}, {13, 3, 1}, {1, 17, 300}, {17, 1, 13}, {0, 5, 3}, {5, 0, 3}, {4, 5, 0},
        {33, 47, 29}, {70, 90, 170},
    };

    /**
     * Shapes that cross the register block, KC and MC boundaries of the blocked path: edge tiles of
     * every kernel (m, n one below and one above multiples of 4, 6, 8 rows and 4, 16, 32, 48 columns),
     * k = 1, k just past a k-block (blocks evened out), and skinny products like the LSTM's.
     */
    private static final int[][] BLOCK_SHAPES = {
        {1, 1, 1}, {3, 5, 13}, {7, 17, 1}, {9, 47, 1}, {13, 33, 257}, {25, 9, 600}, {121, 19, 31},
        {250, 21, 270}, {8, 48, 129}, {17, 49, 2}, {32, 97, 64}, {5, 200, 130}, {41, 31, 385},
    };

    private static boolean vectorApiPresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** The scalar kernel, then every shape of the Vector API kernel when it can load. */
    private static List<GemmKernel> kernels() {
        List<GemmKernel> list = new ArrayList<>();
        list.add(new ScalarGemmKernel());
        if (vectorApiPresent()) {
            list.addAll(VectorKernels.all());
        }
        return list;
    }

    /** Builds the Vector API kernels; a separate class so the scalar-only JVM never links it. */
    private static final class VectorKernels {
        static List<GemmKernel> all() {
            List<GemmKernel> list = new ArrayList<>();
            for (VectorGemmKernel.Shape shape : VectorGemmKernel.Shape.values()) {
                list.add(new VectorGemmKernel(shape));
            }
            return list;
        }
    }

    @Test
    void theVectorKernelIsChosenWhenTheVectorApiIsEnabled() {
        assertEquals(Simd.VECTOR_ENABLED ? VectorGemmKernel.class : ScalarGemmKernel.class,
                BlockedGemm.KERNEL.getClass());
        if (Simd.VECTOR_ENABLED) {
            // The shape follows the registers: 8 x 3 vectors with 16 lanes (AVX-512), else 6 x 2.
            int lanes = VectorGemmKernel.L;
            assertEquals(lanes >= 16 ? 8 : 6, BlockedGemm.KERNEL.mr(), "rows for " + lanes + " lanes");
            assertEquals(lanes >= 16 ? 3 * lanes : 2 * lanes, BlockedGemm.KERNEL.nr(), "columns for " + lanes + " lanes");
        }
    }

    @Test
    void kBlocksCoverKEvenlyWithinTheSliverBudget() {
        for (GemmKernel kernel : kernels()) {
            int max = BlockedGemm.kc(kernel);
            assertTrue(max >= 1 && max <= BlockedGemm.KC
                    && (long) max * kernel.nr() * Float.BYTES <= Math.max(BlockedGemm.B_SLIVER_BYTES, kernel.nr() * Float.BYTES),
                    kernel + ": kc=" + max);
            for (int k : new int[] {0, 1, 2, max - 1, max, max + 1, 2 * max + 1, 784, 1024, 5000}) {
                int kc = BlockedGemm.kBlock(kernel, k);
                int blocks = k == 0 ? 0 : (k + kc - 1) / kc;
                assertTrue(kc >= 1 && kc <= Math.max(1, max), kernel + ": k=" + k + " kc=" + kc);
                assertEquals(k == 0 ? 0 : (k + max - 1) / max, blocks, kernel + ": fewest blocks for k=" + k);
                assertTrue(k == 0 || k - (blocks - 1) * kc > kc - blocks, kernel + ": last block not short, k=" + k);
            }
        }
    }

    @Test
    void publicEntryPointsAreWithinTheDerivedBound() {
        Random rnd = new Random(1);
        for (DType[] t : TYPES) {
            for (int tr = 0; tr < 4; tr++) {
                for (int[] s : PUBLIC_SHAPES) {
                    for (float beta : BETAS) {
                        GemmCase g = new GemmCase(rnd, t[0], t[1], (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], beta);
                        g.assertWithinBound(g.runPublic(), "public");
                    }
                }
            }
        }
    }

    @Test
    void blockedPathWithEitherKernelIsWithinTheBoundAcrossBlockEdges() {
        Random rnd = new Random(2);
        for (GemmKernel kernel : kernels()) {
            for (DType[] t : TYPES) {
                for (int tr = 0; tr < 4; tr++) {
                    for (int[] s : BLOCK_SHAPES) {
                        float beta = BETAS[rnd.nextInt(BETAS.length)];
                        GemmCase g = new GemmCase(rnd, t[0], t[1], (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], beta);
                        int threads = 1 + rnd.nextInt(3); // 1..3: different row/column task grids
                        g.assertWithinBound(g.runBlocked(kernel, threads), kernel.getClass().getSimpleName());
                    }
                }
            }
        }
    }

    /** The scalar kernel and the small-problem loops sum in the twin's order: identical bits. */
    @Test
    void scalarKernelAndSmallLoopsReproduceThePlainTwinBitForBit() {
        Random rnd = new Random(3);
        GemmKernel scalar = new ScalarGemmKernel();
        for (DType[] t : TYPES) {
            for (int tr = 0; tr < 4; tr++) {
                for (int[] s : BLOCK_SHAPES) {
                    float beta = BETAS[rnd.nextInt(BETAS.length)];
                    GemmCase g = new GemmCase(rnd, t[0], t[1], (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], beta);
                    Object expected = g.runReference();
                    g.assertWithinBound(expected, "reference");
                    GemmCase.assertSameBits(expected, g.runBlocked(scalar, 3), "scalar blocked " + g);
                    GemmCase.assertSameBits(expected, g.runSimple(), "small loops " + g);
                }
            }
        }
    }

    /**
     * Every micro-kernel shape chains one fused multiply-add per term in the twin's order: identical
     * bits, across edge tiles, k-blocks and thread counts, for FP32, FP16 and BF16 inputs and all
     * four transpose combinations.
     */
    @Test
    void everyVectorKernelShapeReproducesThePlainTwinBitForBit() {
        Assumptions.assumeTrue(vectorApiPresent(), "jdk.incubator.vector not in the boot layer");
        Random rnd = new Random(4);
        for (GemmKernel kernel : VectorKernels.all()) {
            for (DType[] t : TYPES) {
                for (int tr = 0; tr < 4; tr++) {
                    for (int[] s : BLOCK_SHAPES) {
                        GemmCase g = new GemmCase(rnd, t[0], t[1], (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], 0.5f);
                        Object vector = g.runBlocked(kernel, 1 + rnd.nextInt(3));
                        g.assertWithinBound(vector, kernel.toString());
                        GemmCase.assertSameBits(g.runReference(), vector, kernel + " blocked " + g);
                        GemmCase.assertSameBits(g.runBlocked(new ScalarGemmKernel(), 2), vector, kernel + " vs scalar " + g);
                    }
                }
            }
        }
    }

    /**
     * An element of C does not depend on how many rows or columns are computed with it (so a
     * sequence run in two halves equals the whole, and a sample's output does not depend on its
     * batch): the first rows of a tall product, taken through the blocked path, equal the same
     * rows computed alone through the small-problem path.
     */
    @Test
    void rowsDoNotDependOnTheProblemSize() {
        Random rnd = new Random(6);
        int n = 37, k = 53;
        float[] a = new float[300 * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextGaussian();
        }
        float[] tall = new float[300 * n];
        Gemm.sgemm(false, false, 300, n, k, a, 0, k, b, 0, n, 0f, tall, 0, n);
        for (int rows : new int[] {1, 2, 5}) {
            float[] few = new float[rows * n];
            Gemm.sgemm(false, false, rows, n, k, a, 0, k, b, 0, n, 0f, few, 0, n);
            for (int i = 0; i < few.length; i++) {
                assertEquals(Float.floatToRawIntBits(tall[i]), Float.floatToRawIntBits(few[i]),
                        "element " + i + " with " + rows + " rows vs 300 rows");
            }
        }
    }

    @Test
    void resultsAreBitIdenticalForOneTwoAndThreeThreads() {
        int saved = Parallel.threads();
        try {
            Random rnd = new Random(5);
            // A square-ish product and the LSTM's skinny one (32 x 128 times 128 x 512, split by columns
            // or by rows depending on the kernel), both past the parallel threshold.
            int[][] shapes = {{203, 150, 530}, {32, 512, 128}};
            for (DType[] t : TYPES) {
                for (int[] s : shapes) {
                    GemmCase g = new GemmCase(rnd, t[0], t[1], false, true, s[0], s[1], s[2], 0.25f);
                    Parallel.setThreads(1);
                    Object one = g.runPublic();
                    for (int threads = 2; threads <= 3; threads++) {
                        Parallel.setThreads(threads);
                        GemmCase.assertSameBits(one, g.runPublic(), threads + " threads vs 1, " + g);
                    }
                    g.assertWithinBound(one, "1 thread");
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void widePanelsAndDeepProblemsSplitIntoSeveralBPanels() {
        Random rnd = new Random(6);
        for (GemmKernel kernel : kernels()) {
            // n > NC: two column panels.
            GemmCase wide = new GemmCase(rnd, DType.FP16, DType.FP32, false, false, 3, BlockedGemm.NC + 52, 7, 1f);
            wide.assertWithinBound(wide.runBlocked(kernel, 2), "wide " + kernel.getClass().getSimpleName());
            // k * n > B_PANEL_FLOATS: the panel narrows so packed B stays bounded.
            int k = 5000;
            int n = BlockedGemm.B_PANEL_FLOATS / k + 100;
            GemmCase deep = new GemmCase(rnd, DType.FP32, DType.FP32, true, false, 2, n, k, 0f);
            deep.assertWithinBound(deep.runBlocked(kernel, 2), "deep " + kernel.getClass().getSimpleName());
        }
    }

    @Test
    void zeroDepthGivesBetaTimesCAndIgnoresNanWhenBetaIsZero() {
        float[] a = {};
        float[] b = {};
        float[] c = {Float.NaN, 2f, Float.POSITIVE_INFINITY, -3f};
        Gemm.sgemm(false, false, 2, 2, 0, a, 0, 0, b, 0, 2, 0f, c, 0, 2);
        assertEquals(List.of(0f, 0f, 0f, 0f), List.of(c[0], c[1], c[2], c[3]));
        float[] d = {1f, 2f, 3f, -4f};
        Gemm.sgemm(true, true, 2, 2, 0, a, 0, 2, b, 0, 0, 2f, d, 0, 2);
        assertEquals(List.of(2f, 4f, 6f, -8f), List.of(d[0], d[1], d[2], d[3]));
    }

    @Test
    void infinityInAReachesOnlyItsRowAndPaddingAddsNoNan() {
        for (GemmKernel kernel : kernels()) {
            int m = 7;
            int n = 19;
            int k = 5;
            float[] a = new float[m * k];
            float[] b = new float[k * n];
            java.util.Arrays.fill(a, 0.5f);
            java.util.Arrays.fill(b, 2f);
            a[0] = Float.POSITIVE_INFINITY;
            float[] c = new float[m * n];
            BlockedGemm.blocked(kernel, 2, m, n, k, GemmOperand.of(a, 0, k, false), GemmOperand.of(b, 0, n, false),
                    GemmOutput.of(c, 0, n, 0f));
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    assertEquals(i == 0 ? Float.POSITIVE_INFINITY : 5f, c[i * n + j], "C[" + i + "][" + j + "]");
                }
            }
        }
    }

    @Test
    void bf16RoundingHelperMatchesConvert() {
        int count = 0;
        float[] in = new float[1];
        short[] out = new short[1];
        for (long bits = 0; bits <= 0xffffffffL; bits += 4099) {
            count++;
            checkBf16((int) bits, in, out);
        }
        int[] special = {0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff,
            0x3f808000, 0x3f818000, 0x3f807fff, 0x7f7fffff, 0x00000001, 0x00008000, 0x00018000};
        for (int s : special) {
            checkBf16(s, in, out);
        }
        assertTrue(count > 1_000_000);
    }

    private static void checkBf16(int bits, float[] in, short[] out) {
        in[0] = Float.intBitsToFloat(bits);
        Convert.floatToBFloat16(in, 0, out, 0, 1);
        assertEquals(out[0], BFloat16.fromFloat(in[0]), () -> "bits 0x" + Integer.toHexString(bits));
    }

    @Test
    void badArgumentsAreRejectedWithMessagesThatNameThem() {
        float[] a = new float[6];
        float[] b = new float[6];
        float[] c = new float[4];
        assertThrows(NullPointerException.class, () -> Gemm.sgemm(false, false, 2, 2, 3, null, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertThrows(NullPointerException.class, () -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 3, null, 0, 2, 0f, c, 0, 2));
        assertThrows(NullPointerException.class, () -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 3, b, 0, 2, 0f, null, 0, 2));
        assertMessage("sizes must be >= 0, got m=-1",
                () -> Gemm.sgemm(false, false, -1, 2, 3, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertMessage("'b' offset must be >= 0, got bOff=-2",
                () -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 3, b, -2, 2, 0f, c, 0, 2));
        assertMessage("lda=2 is smaller than the 3 columns of stored 'a'",
                () -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertMessage("'a' is too short: needs 7 elements for m=2, k=3, transA=false, lda=3, aOff=1",
                () -> Gemm.sgemm(false, false, 2, 2, 3, a, 1, 3, b, 0, 2, 0f, c, 0, 2));
        assertMessage("'b' is too short: needs 8 elements",
                () -> Gemm.sgemm(false, true, 2, 2, 3, a, 0, 3, b, 0, 5, 0f, c, 0, 2));
        assertMessage("'c' is too short: needs 5 elements for m=2, n=2, ldc=3",
                () -> Gemm.sgemm(false, false, 2, 2, 3, a, 0, 3, b, 0, 2, 0f, c, 0, 3));
        float[] shared = new float[20];
        assertMessage("'c' overlaps 'a'",
                () -> Gemm.sgemm(false, false, 2, 2, 3, shared, 0, 3, b, 0, 2, 0f, shared, 4, 2));
        Gemm.sgemm(false, false, 2, 2, 3, shared, 0, 3, b, 0, 2, 0f, shared, 6, 2); // disjoint slices are fine

        short[] ah = new short[6];
        short[] bh = new short[6];
        short[] ch = new short[4];
        float[] cf = new float[4];
        assertMessage("'in' must be FP16 or BF16, got FP32",
                () -> Gemm.gemm16(DType.FP32, false, false, 2, 2, 3, ah, 0, 3, bh, 0, 2, 0f, cf, 0, 2));
        assertMessage("'in' must be FP16 or BF16, got FP32",
                () -> Gemm.gemm16(DType.FP32, false, false, 2, 2, 3, ah, 0, 3, bh, 0, 2, 0f, ch, 0, 2));
        assertThrows(NullPointerException.class,
                () -> Gemm.gemm16(null, false, false, 2, 2, 3, ah, 0, 3, bh, 0, 2, 0f, ch, 0, 2));
        assertMessage("'a' is too short",
                () -> Gemm.gemm16(DType.BF16, true, false, 2, 2, 4, ah, 0, 2, bh, 0, 2, 0f, ch, 0, 2));
        assertMessage("'c' overlaps 'b'",
                () -> Gemm.gemm16(DType.FP16, false, false, 2, 2, 3, ah, 0, 3, bh, 0, 2, 0f, bh, 0, 2));
    }

    private static void assertMessage(String expectedPart, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expectedPart), () -> "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
    }
}
