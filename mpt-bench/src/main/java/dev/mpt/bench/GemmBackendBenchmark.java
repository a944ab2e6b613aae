package dev.mpt.bench;

import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.kernel.backend.Backends;
import dev.mpt.core.kernel.backend.GemmBackend;
import dev.mpt.core.number.DType;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The same GEMM {@code C = op(A) B} (FP32 out, beta = 0) through mpt's Java kernels and through the
 * oneDNN backend, in one JVM, per input dtype and shape: the square n = 1024 problem and the
 * products of one training step of the MLP 784-1024-1024-10 at batch 256 (forward
 * {@code 256x1024x784}, {@code 256x1024x1024}, {@code 256x10x1024}; input gradient
 * {@code 256x784x1024}; weight gradient {@code 1024x784x256} with A transposed, as
 * {@code dY^T X}). Shapes are {@code m x n x k}.
 *
 * <p>Scores are microseconds per product; {@code GFLOP/s = 2 m n k / (t_us * 1000)}. The oneDNN
 * score includes the staging copies into off-heap memory (and FP16's widening to FP32 where the
 * CPU has no FP16 matmul). The fork runs with {@code -Dmpt.backend=java}, so {@code java} is
 * mpt's kernels; {@code onednn} calls {@link Backends#oneDnn()} directly.
 * Run: {@code java -jar mpt-bench/target/benchmarks.jar GemmBackend -p threads=2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Dmpt.backend=java"})
public class GemmBackendBenchmark {

    /** {@code m x n x k}; "t" marks a transposed A (stored k x m). */
    @Param({"1024x1024x1024", "256x1024x784", "256x1024x1024", "256x10x1024", "256x784x1024", "1024x784x256t"})
    public String shape;

    @Param({"FP32", "BF16", "FP16"})
    public DType dtype;

    @Param({"java", "onednn"})
    public String backend;

    @Param({"2"})
    public int threads;

    private int m;
    private int n;
    private int k;
    private boolean transA;
    private float[] a;
    private float[] b;
    private short[] a16;
    private short[] b16;
    private float[] c;
    private GemmBackend oneDnn;
    private int savedThreads;

    @Setup
    public void setUp() {
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
        transA = shape.endsWith("t");
        String[] p = shape.replace("t", "").split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        Random rnd = new Random(42);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextFloat() * 2f - 1f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextFloat() * 2f - 1f;
        }
        a16 = to16(a);
        b16 = to16(b);
        if (backend.equals("onednn")) {
            oneDnn = Backends.oneDnn().orElseThrow(() -> new IllegalStateException("oneDNN did not load"));
        }
        // the timed product, checked once on rows 0, m/2 and m-1 against a double reference
        float[] av = dtype == DType.FP32 ? a : SetupCheck.widen(dtype, a16);
        float[] bv = dtype == DType.FP32 ? b : SetupCheck.widen(dtype, b16);
        SetupCheck.gemmNear(backend + " " + dtype + " " + shape, transA, false, m, n, k, av, transA ? m : k, bv, n,
                gemm(), 0, m / 2, m - 1);
    }

    private short[] to16(float[] x) {
        short[] s = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            s[i] = dtype == DType.BF16 ? (short) (Float.floatToRawIntBits(x[i]) >>> 16) : Float.floatToFloat16(x[i]);
        }
        return s;
    }

    @TearDown
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    @Benchmark
    public float[] gemm() {
        int lda = transA ? m : k;
        if (oneDnn == null) {
            if (dtype == DType.FP32) {
                Gemm.sgemm(transA, false, m, n, k, a, 0, lda, b, 0, n, 0f, c, 0, n);
            } else {
                Gemm.gemm16(dtype, transA, false, m, n, k, a16, 0, lda, b16, 0, n, 0f, c, 0, n);
            }
        } else {
            boolean done = dtype == DType.FP32
                    ? oneDnn.sgemm(threads, transA, false, m, n, k, a, 0, lda, b, 0, n, 0f, c, 0, n)
                    : oneDnn.gemm16(threads, dtype == DType.BF16, transA, false, m, n, k, a16, 0, lda, b16, 0, n,
                            0f, c, 0, n);
            if (!done) {
                throw new IllegalStateException("oneDNN declined " + shape + " " + dtype);
            }
        }
        return c;
    }
}
