package dev.mpt.bench;

import dev.mpt.core.kernel.Gemm;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.ejml.concurrency.EjmlConcurrency;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
import org.ejml.dense.row.CommonOps_MT_FDRM;
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
 * Square GEMM {@code C = A B} (n x n, no transposes, beta = 0): mpt's FP32, FP16-in and BF16-in
 * kernels (FP32 accumulation; FP32 out, and FP16 out), and EJML's FP32 multiply as the peer, on 1
 * and {@code threads} threads in the same run.
 *
 * <p>Scores are milliseconds per multiply. Each is {@code 2 n^3} floating-point operations, so
 * {@code GFLOP/s = 2 n^3 / (t_ms * 10^6)}: 33.55 / t_ms at n = 256, 268.4 / t_ms at 512,
 * 2147.5 / t_ms at 1024, 17180 / t_ms at 2048.
 *
 * <p>EJML's {@code CommonOps_FDRM.mult} is single-threaded; with {@code threads > 1} the
 * {@code ejml} benchmark runs {@code CommonOps_MT_FDRM.mult} on {@code threads} EJML threads.
 * Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar Gemm -p n=1024}.
 *
 * <p>It measures mpt's Java kernels, whose setup check holds them to the in-order FMA chain bit for
 * bit, so its forks run with {@code -Dmpt.backend=java}; the native backend is measured by
 * {@code GemmBackendBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Dmpt.backend=java"})
public class GemmBenchmark {

    /** Matrix size. */
    @Param({"256", "512", "1024", "2048"})
    public int n;

    /** Kernel threads ({@link Parallel#setThreads}; EJML's thread count for {@code ejml}). */
    @Param({"1", "2"})
    public int threads;

    private float[] a;
    private float[] b;
    private float[] c;
    private short[] aHalf;
    private short[] bHalf;
    private short[] aBf16;
    private short[] bBf16;
    private short[] cHalf;
    private FMatrixRMaj ma;
    private FMatrixRMaj mb;
    private FMatrixRMaj mc;
    private int savedThreads;

    @Setup
    public void setUp() {
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
        EjmlConcurrency.setMaxThreads(threads);
        Random rnd = new Random(42);
        int len = n * n;
        a = new float[len];
        b = new float[len];
        c = new float[len];
        aHalf = new short[len];
        bHalf = new short[len];
        aBf16 = new short[len];
        bBf16 = new short[len];
        cHalf = new short[len];
        for (int i = 0; i < len; i++) {
            a[i] = rnd.nextFloat() * 2f - 1f;
            b[i] = rnd.nextFloat() * 2f - 1f;
            aHalf[i] = Float.floatToFloat16(a[i]);
            bHalf[i] = Float.floatToFloat16(b[i]);
            aBf16[i] = (short) (Float.floatToRawIntBits(a[i]) >>> 16);
            bBf16[i] = (short) (Float.floatToRawIntBits(b[i]) >>> 16);
        }
        ma = new FMatrixRMaj(n, n, true, a);
        mb = new FMatrixRMaj(n, n, true, b);
        mc = new FMatrixRMaj(n, n);
        checkResults();
    }

    /** Each kernel once, rows checked against its plain twin (a wrong kernel fails here, not in a figure). */
    private void checkResults() {
        int[] rows = {0, n / 2 + 1, n - 1};
        SetupCheck.gemmRows("sgemm", DType.FP32, DType.FP32, n, a, b, sgemm(), rows);
        SetupCheck.gemmRows("fp16InFp32Out", DType.FP16, DType.FP32, n, aHalf, bHalf, fp16InFp32Out(), rows);
        SetupCheck.gemmRows("fp16InFp16Out", DType.FP16, DType.FP16, n, aHalf, bHalf, fp16InFp16Out(), rows);
        SetupCheck.gemmRows("bf16InFp32Out", DType.BF16, DType.FP32, n, aBf16, bBf16, bf16InFp32Out(), rows);
        SetupCheck.gemmRows("bf16InBf16Out", DType.BF16, DType.BF16, n, aBf16, bBf16, bf16InBf16Out(), rows);
        SetupCheck.fp32Rows("ejml", n, a, b, ejml().data, rows);
    }

    @TearDown
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    /** mpt FP32 in, FP32 out. */
    @Benchmark
    public float[] sgemm() {
        Gemm.sgemm(false, false, n, n, n, a, 0, n, b, 0, n, 0f, c, 0, n);
        return c;
    }

    /** mpt FP16 in, FP32 accumulation, FP32 out. */
    @Benchmark
    public float[] fp16InFp32Out() {
        Gemm.gemm16(DType.FP16, false, false, n, n, n, aHalf, 0, n, bHalf, 0, n, 0f, c, 0, n);
        return c;
    }

    /** mpt FP16 in, FP32 accumulation, FP16 out (rounded once per element). */
    @Benchmark
    public short[] fp16InFp16Out() {
        Gemm.gemm16(DType.FP16, false, false, n, n, n, aHalf, 0, n, bHalf, 0, n, 0f, cHalf, 0, n);
        return cHalf;
    }

    /** mpt BF16 in, FP32 accumulation, FP32 out. */
    @Benchmark
    public float[] bf16InFp32Out() {
        Gemm.gemm16(DType.BF16, false, false, n, n, n, aBf16, 0, n, bBf16, 0, n, 0f, c, 0, n);
        return c;
    }

    /** mpt BF16 in, FP32 accumulation, BF16 out. */
    @Benchmark
    public short[] bf16InBf16Out() {
        Gemm.gemm16(DType.BF16, false, false, n, n, n, aBf16, 0, n, bBf16, 0, n, 0f, cHalf, 0, n);
        return cHalf;
    }

    /** EJML FP32 ({@code CommonOps_FDRM.mult}; {@code CommonOps_MT_FDRM.mult} when threads > 1). */
    @Benchmark
    public FMatrixRMaj ejml() {
        if (threads == 1) {
            CommonOps_FDRM.mult(ma, mb, mc);
        } else {
            CommonOps_MT_FDRM.mult(ma, mb, mc);
        }
        return mc;
    }
}
