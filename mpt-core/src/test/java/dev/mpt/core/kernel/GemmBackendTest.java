package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.backend.Backends;
import dev.mpt.core.kernel.backend.GemmBackend;
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
            done = backend.gemm16(threads, g.in == DType.BF16, g.transA, g.transB, g.m, g.n, g.k, (short[]) g.a,
                    g.aOff, g.lda, (short[]) g.b, g.bOff, g.ldb, g.beta, (short[]) c, g.cOff, g.ldc);
        }
        assertTrue(done, () -> backend.name() + " declined " + g);
        return c;
    }
}
