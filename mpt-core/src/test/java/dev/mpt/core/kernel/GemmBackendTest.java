package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.backend.Backends;
import dev.mpt.core.kernel.backend.GemmBackend;
import dev.mpt.core.number.BFloat16;
import dev.mpt.core.number.DType;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The native GEMM backend (oneDNN, from the natives jar on the test class path) held to the same
 * derived error bound as the Java kernels ({@link GemmCase}), over every dtype pair, transpose,
 * awkward leading dimensions with NaN in the gaps, beta, and one and two threads. It needs the
 * natives only on linux-x86_64, where their absence is a failure, not a skip.
 */
class GemmBackendTest {

    /** {m, n, k}, each large enough for the backend to take it (m n k >= 64^3). */
    private static final int[][] SHAPES = {
        {64, 64, 64}, {70, 90, 170}, {1, 1000, 300}, {257, 65, 31}, {31, 17, 600},
    };

    private static GemmBackend oneDnn() {
        Assumptions.assumeTrue("Linux".equals(System.getProperty("os.name"))
                && "amd64".equals(System.getProperty("os.arch")), "oneDNN natives are tested on linux-x86_64");
        return Backends.oneDnn().orElseThrow(() -> new AssertionError("oneDNN did not load; see the log"));
    }

    @Test
    void oneDnnIsWithinTheDerivedBoundForEveryDtypeLayoutAndBeta() {
        GemmBackend backend = oneDnn();
        Random rnd = new Random(11);
        int cases = 0;
        for (DType[] t : GemmTest.TYPES) {
            for (int tr = 0; tr < 4; tr++) {
                // two shapes per dtype and layout, cycling through all of them: each new shape and
                // layout JIT-compiles a primitive, so the full cross product would cost seconds
                for (int[] s : new int[][] {SHAPES[cases++ % SHAPES.length], SHAPES[cases++ % SHAPES.length]}) {
                    float beta = GemmTest.BETAS[rnd.nextInt(GemmTest.BETAS.length)];
                    GemmCase g = new GemmCase(rnd, t[0], t[1], (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], beta);
                    int threads = 1 + rnd.nextInt(2);
                    g.assertWithinBound(run(backend, threads, g), "onednn threads=" + threads);
                }
            }
        }
    }

    @Test
    void smallProductsAreLeftToTheJavaKernels() {
        GemmBackend backend = oneDnn();
        GemmCase g = new GemmCase(new Random(12), DType.BF16, DType.FP32, false, false, 8, 8, 8, 0f);
        Object c = g.freshC();
        assertTrue(!backend.gemm16(1, true, false, false, 8, 8, 8, (short[]) g.a, g.aOff, g.lda,
                (short[]) g.b, g.bOff, g.ldb, 0f, (float[]) c, g.cOff, g.ldc));
    }

    /**
     * A 16-bit C through the backend is the Java kernels' store expression over the backend's own
     * FP32 product P of the same operands, rounded with the scalar {@code BFloat16.fromFloat} /
     * {@code Float.floatToFloat16} here: {@code r(P + beta C)} and {@code r(r(P) + bias)}, bit
     * for bit, and nothing outside C's rows and columns is written. (So a 16-bit gradient written
     * directly equals the FP32 one rounded afterwards under the native backend too.)
     */
    @Test
    void aSixteenBitCIsTheFp32ProductRoundedOnce() {
        GemmBackend backend = oneDnn();
        Random rnd = new Random(13);
        for (DType in : new DType[] {DType.BF16, DType.FP16}) {
            boolean bf16 = in == DType.BF16;
            for (float beta : new float[] {0f, -0.75f}) {
                for (boolean withBias : new boolean[] {false, true}) {
                    float b0 = withBias ? 0f : beta;
                    GemmCase g = new GemmCase(rnd, in, in, false, true, 70, 90, 170, b0);
                    float[] bias = new float[g.n + 3];
                    for (int j = 0; j < bias.length; j++) {
                        bias[j] = rnd.nextFloat() * 2f - 1f;
                    }
                    float[] p = new float[g.m * g.n];
                    assertTrue(backend.gemm16(2, bf16, g.transA, g.transB, g.m, g.n, g.k, (short[]) g.a, g.aOff, g.lda,
                            (short[]) g.b, g.bOff, g.ldb, 0f, p, 0, g.n));
                    short[] old = (short[]) g.freshC();
                    short[] expected = old.clone();
                    for (int i = 0; i < g.m; i++) {
                        for (int j = 0; j < g.n; j++) {
                            int at = g.cOff + i * g.ldc + j;
                            float v = b0 == 0f ? p[i * g.n + j] : p[i * g.n + j] + b0 * widen(bf16, old[at]);
                            expected[at] = narrow(bf16, v);
                            if (withBias) {
                                expected[at] = narrow(bf16, widen(bf16, expected[at]) + bias[2 + j]);
                            }
                        }
                    }
                    short[] c = old.clone();
                    assertTrue(Gemm.viaBackend16(backend, 2, bf16, g.transA, g.transB, g.m, g.n, g.k, (short[]) g.a,
                            g.aOff, g.lda, (short[]) g.b, g.bOff, g.ldb, b0, c, g.cOff, g.ldc, withBias ? bias : null, 2));
                    assertArrayEquals(expected, c,
                            () -> in + " beta=" + b0 + " bias=" + withBias);
                }
            }
        }
    }

    private static float widen(boolean bf16, short h) {
        return bf16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h);
    }

    private static short narrow(boolean bf16, float v) {
        return bf16 ? BFloat16.fromFloat(v) : Float.floatToFloat16(v);
    }

    /** Runs the case on the backend and returns C; fails if the backend declined it. */
    static Object run(GemmBackend backend, int threads, GemmCase g) {
        Object c = g.freshC();
        boolean done;
        if (g.in == DType.FP32) {
            done = backend.sgemm(threads, g.transA, g.transB, g.m, g.n, g.k, (float[]) g.a, g.aOff, g.lda,
                    (float[]) g.b, g.bOff, g.ldb, g.beta, (float[]) c, g.cOff, g.ldc);
        } else if (c instanceof float[] cf) {
            done = backend.gemm16(threads, g.in == DType.BF16, g.transA, g.transB, g.m, g.n, g.k, (short[]) g.a,
                    g.aOff, g.lda, (short[]) g.b, g.bOff, g.ldb, g.beta, cf, g.cOff, g.ldc);
        } else {
            done = Gemm.viaBackend16(backend, threads, g.in == DType.BF16, g.transA, g.transB, g.m, g.n, g.k,
                    (short[]) g.a, g.aOff, g.lda, (short[]) g.b, g.bOff, g.ldb, g.beta, (short[]) c, g.cOff, g.ldc,
                    null, 0);
        }
        assertTrue(done, () -> backend.name() + " declined " + g);
        return c;
    }
}
