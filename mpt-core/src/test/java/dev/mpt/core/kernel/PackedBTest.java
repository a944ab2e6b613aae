package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link PackedB}: a B packed once and multiplied many times gives, every time, the bits of the
 * plain twin {@link GemmReference} (and so of the unpacked call), within {@link GemmCase}'s derived
 * bound of the double reference, with every micro-kernel and thread count.
 */
class PackedBTest {

    /** {m, n, k}: edge tiles, k-blocks, the LSTM's recurrent products (32 x 128 x 512, 32 x 512 x 128), n past NC. */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {3, 5, 13}, {9, 47, 1}, {13, 33, 257}, {25, 9, 600}, {17, 49, 2}, {32, 97, 64},
        {32, 128, 512}, {32, 512, 128}, {0, 5, 3}, {4, 0, 3}, {4, 5, 0}, {3, BlockedGemm.NC + 52, 7},
    };

    /** The scalar kernel, then every shape of the Vector API kernel when it can load. */
    private static List<GemmKernel> kernels() {
        List<GemmKernel> list = new ArrayList<>();
        list.add(new ScalarGemmKernel());
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            for (VectorGemmKernel.Shape shape : VectorGemmKernel.Shape.values()) {
                list.add(new VectorGemmKernel(shape));
            }
        }
        return list;
    }

    @Test
    void onePackReusedForManyProductsGivesThePlainTwinsBitsWithEveryKernel() {
        Random rnd = new Random(11);
        for (GemmKernel kernel : kernels()) {
            for (DType[] t : GemmTest.TYPES) {
                for (int tr = 0; tr < 4; tr++) {
                    for (int[] s : SHAPES) {
                        GemmCase g = new GemmCase(rnd, t[0], t[1], (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2],
                                GemmTest.BETAS[rnd.nextInt(GemmTest.BETAS.length)]);
                        PackedB b = g.packedB(kernel);
                        Object expected = g.runReference();
                        // the same packed B three times, on 1 to 3 threads: the pack is not consumed
                        for (int threads = 1; threads <= 3; threads++) {
                            Object got = g.runPacked(b, threads);
                            GemmCase.assertSameBits(expected, got, kernel + " packed, " + threads + " threads, " + g);
                            if (threads == 1) {
                                g.assertWithinBound(got, kernel + " packed");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The public entry points against the unpacked calls, bit for bit: one B (stored as a recurrent
     * weight, {@code [n, k]} read transposed, and as {@code [k, n]}), packed once, times four
     * different A, on 1 and 2 threads.
     */
    @Test
    void publicPackedProductsEqualTheUnpackedOnes() {
        int saved = Parallel.threads();
        try {
            Random rnd = new Random(12);
            for (DType in : DType.values()) {
                for (int[] s : new int[][] {{32, 512, 128}, {32, 128, 512}, {5, 33, 7}}) {
                    int m = s[0];
                    int n = s[1];
                    int k = s[2];
                    for (int tr = 0; tr < 2; tr++) {
                        boolean transB = tr == 1;
                        float[] bf = values(rnd, in, k * n);
                        int ldb = transB ? k : n;
                        PackedB b = in == DType.FP32 ? Gemm.packB(transB, k, n, bf, 0, ldb)
                                : Gemm.packB16(in, transB, k, n, GemmCase.bits(in, bf), 0, ldb);
                        assertEquals(in, b.dtype());
                        assertEquals(k, b.k());
                        assertEquals(n, b.n());
                        for (int threads = 1; threads <= 2; threads++) {
                            Parallel.setThreads(threads);
                            for (int rep = 0; rep < 4; rep++) {
                                float[] af = values(rnd, in, m * k);
                                float[] packed = new float[m * n];
                                float[] plain = new float[m * n];
                                if (in == DType.FP32) {
                                    Gemm.sgemm(false, m, af, 0, k, b, 0f, packed, 0, n);
                                    Gemm.sgemm(false, transB, m, n, k, af, 0, k, bf, 0, ldb, 0f, plain, 0, n);
                                } else {
                                    short[] ah = GemmCase.bits(in, af);
                                    Gemm.gemm16(in, false, m, ah, 0, k, b, 0f, packed, 0, n);
                                    Gemm.gemm16(in, false, transB, m, n, k, ah, 0, k, GemmCase.bits(in, bf), 0, ldb,
                                            0f, plain, 0, n);
                                }
                                GemmCase.assertSameBits(plain, packed, in + " " + m + "x" + n + "x" + k + " transB="
                                        + transB + ", " + threads + " threads, A number " + rep);
                            }
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /** {@code count} values in [-1, 1) exact in {@code type}. */
    private static float[] values(Random rnd, DType type, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = GemmCase.exact(type, rnd.nextFloat() * 2f - 1f);
        }
        return v;
    }

    @Test
    void badArgumentsAreRejectedWithMessagesThatNameThem() {
        float[] b = new float[6];
        short[] bh = new short[6];
        float[] a = new float[6];
        float[] c = new float[4];
        assertThrows(NullPointerException.class, () -> Gemm.packB(false, 3, 2, null, 0, 2));
        assertMessage("Gemm.packB: sizes must be >= 0, got k=-1", () -> Gemm.packB(false, -1, 2, b, 0, 2));
        assertMessage("Gemm.packB: 'b' is too short: needs 8 elements",
                () -> Gemm.packB(true, 3, 2, b, 0, 5));
        assertMessage("Gemm.packB16: 'in' must be FP16 or BF16, got FP32",
                () -> Gemm.packB16(DType.FP32, false, 3, 2, bh, 0, 2));
        PackedB packed = Gemm.packB(false, 3, 2, b, 0, 2);
        PackedB packed16 = Gemm.packB16(DType.BF16, false, 3, 2, bh, 0, 2);
        assertMessage("Gemm.sgemm: packed 'b' must be FP32, got BF16",
                () -> Gemm.sgemm(false, 2, a, 0, 3, packed16, 0f, c, 0, 2));
        assertMessage("Gemm.gemm16: packed 'b' must be FP16, got BF16",
                () -> Gemm.gemm16(DType.FP16, false, 2, new short[6], 0, 3, packed16, 0f, c, 0, 2));
        assertThrows(NullPointerException.class, () -> Gemm.sgemm(false, 2, a, 0, 3, null, 0f, c, 0, 2));
        assertMessage("Gemm.sgemm: 'a' is too short: needs 7 elements for m=2, k=3",
                () -> Gemm.sgemm(false, 2, a, 1, 3, packed, 0f, c, 0, 2));
        assertMessage("Gemm.sgemm: 'c' overlaps 'b'", () -> Gemm.sgemm(false, 2, a, 0, 3, packed, 0f, b, 0, 2));
        assertTrue(packed.toString().contains("k=3, n=2"), packed.toString());
    }

    private static void assertMessage(String expectedPart, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expectedPart), () -> "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
    }
}
