package dev.mpt.bench;

import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.kernel.Parallel;
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
 * The skinny GEMMs of mpt's example models, with the transposes their layers pass ({@link GemmBenchmark}
 * covers squares): {@code C = op(A) op(B)}, beta = 0, FP32 in and FP16 in, FP32 out.
 * <ul>
 * <li>{@code lstm}: the char-lstm step's recurrent product, h (32 x 128) times W_hh^T (128 x 512 gates), B a
 *     transposed view: m = 32, n = 512, k = 128, transB.
 * <li>{@code mlpForward}: the MLP's first layer, x (256 x 784) times W^T (784 x 1024): m = 256, n = 1024,
 *     k = 784, transB.
 * <li>{@code mlpBackwardInput}: its input gradient, dY (256 x 1024) times W (1024 x 784): m = 256, n = 784,
 *     k = 1024.
 * <li>{@code mlpBackwardWeight}: its weight gradient, dY^T (1024 x 256) times x (256 x 784): m = 1024,
 *     n = 784, k = 256, transA.
 * </ul>
 * Scores are microseconds per multiply; {@code GFLOP/s = 2 m n k / (t_us * 10^3)}: 4194 / t_us for
 * {@code lstm}, 411,042 / t_us for the three MLP products.
 * Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar GemmShapes}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class GemmShapesBenchmark {

    /** The product, named by the layer it comes from (see the class doc). */
    @Param({"lstm", "mlpForward", "mlpBackwardInput", "mlpBackwardWeight"})
    public String shape;

    /** Kernel threads ({@link Parallel#setThreads}). */
    @Param({"2"})
    public int threads;

    private int m;
    private int n;
    private int k;
    private boolean transA;
    private boolean transB;
    private float[] a;
    private float[] b;
    private float[] c;
    private short[] aHalf;
    private short[] bHalf;
    private int savedThreads;

    @Setup
    public void setUp() {
        switch (shape) {
            case "lstm" -> set(32, 512, 128, false, true);
            case "mlpForward" -> set(256, 1024, 784, false, true);
            case "mlpBackwardInput" -> set(256, 784, 1024, false, false);
            case "mlpBackwardWeight" -> set(1024, 784, 256, true, false);
            default -> throw new IllegalArgumentException("GemmShapesBenchmark: unknown shape '" + shape + "'");
        }
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
        Random rnd = new Random(42);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        aHalf = new short[a.length];
        bHalf = new short[b.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextFloat() * 2f - 1f;
            aHalf[i] = Float.floatToFloat16(a[i]);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextFloat() * 2f - 1f;
            bHalf[i] = Float.floatToFloat16(b[i]);
        }
        checkResults();
    }

    /** Every product this benchmark times, checked once on rows 0, m/2 and m-1 against a double reference. */
    private void checkResults() {
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        int[] rows = {0, m / 2, m - 1};
        SetupCheck.gemmNear("sgemm " + shape, transA, transB, m, n, k, a, lda, b, ldb, sgemm(), rows);
        SetupCheck.gemmNear("fp16InFp32Out " + shape, transA, transB, m, n, k, SetupCheck.widen(DType.FP16, aHalf),
                lda, SetupCheck.widen(DType.FP16, bHalf), ldb, fp16InFp32Out(), rows);
    }

    private void set(int m, int n, int k, boolean transA, boolean transB) {
        this.m = m;
        this.n = n;
        this.k = k;
        this.transA = transA;
        this.transB = transB;
    }

    @TearDown
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    /** mpt FP32 in, FP32 out. */
    @Benchmark
    public float[] sgemm() {
        Gemm.sgemm(transA, transB, m, n, k, a, 0, transA ? m : k, b, 0, transB ? k : n, 0f, c, 0, n);
        return c;
    }

    /** mpt FP16 in, FP32 accumulation, FP32 out. */
    @Benchmark
    public float[] fp16InFp32Out() {
        Gemm.gemm16(DType.FP16, transA, transB, m, n, k, aHalf, 0, transA ? m : k, bHalf, 0, transB ? k : n,
                0f, c, 0, n);
        return c;
    }
}
