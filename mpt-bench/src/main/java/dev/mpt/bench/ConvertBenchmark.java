package dev.mpt.bench;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.kernel.Grain;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.BFloat16;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Bulk FP32 &lt;-&gt; FP16/BF16 conversion of {@code n} elements (16M by default, far beyond the
 * caches) with mpt's {@link Convert}, against plain single-threaded loops and against the memory
 * copy that moves the same bytes.
 *
 * <p>How to compare. Each benchmark reports operations per second; one operation is one whole
 * pass over the arrays. A conversion of {@code n} elements reads {@code 4n} bytes and writes
 * {@code 2n} (FP32 to 16-bit) or reads {@code 2n} and writes {@code 4n} (16-bit to FP32): {@code 6n}
 * bytes of memory traffic either way. The copy ceilings copy {@code 3n} bytes with
 * {@link System#arraycopy}, which reads {@code 3n} and writes {@code 3n}: the same {@code 6n} bytes.
 * So bytes per second = ops/s * 6n for every benchmark here, and the ratio of two scores is the
 * ratio of their bytes per second; "a conversion reaches 0.8x the copy ceiling" means its score
 * is at least 0.8 times the copy's. {@code copyCeiling} copies on one thread;
 * {@code copyCeilingParallel} splits the copy exactly as {@link Convert} splits a conversion, on
 * {@link Parallel}'s threads, and is the fair ceiling for the {@code convert*} scores (which run
 * in parallel at this size); the {@code plain*} loops run on one thread and compare with
 * {@code copyCeiling}.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar mpt-bench/target/benchmarks.jar Convert}
 * (without the flag mpt uses its scalar loops; the scores then show the scalar BF16 path).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ConvertBenchmark {

    /** Elements per conversion. */
    @Param("16777216")
    public int n;

    private float[] f32;
    private float[] f32Out;
    private short[] f16;
    private short[] bf16;
    private short[] out16;
    private byte[] copySrc;
    private byte[] copyDst;

    @Setup
    public void setUp() {
        SplittableRandom r = new SplittableRandom(1);
        f32 = new float[n];
        f32Out = new float[n];
        f16 = new short[n];
        bf16 = new short[n];
        out16 = new short[n];
        for (int i = 0; i < n; i++) {
            f32[i] = (float) (r.nextGaussian() * 100);
        }
        Convert.floatToHalf(f32, 0, f16, 0, n);
        Convert.floatToBFloat16(f32, 0, bf16, 0, n);
        copySrc = new byte[3 * n];
        copyDst = new byte[3 * n];
        r.nextBytes(copySrc);
        checkResults();
    }

    /** Each facade conversion once against its plain per-element loop, bit for bit. */
    private void checkResults() {
        SetupCheck.sameBits("convertFloatToHalf", convertFloatToHalf().clone(), plainFloatToHalf());
        SetupCheck.sameBits("convertHalfToFloat", convertHalfToFloat().clone(), plainHalfToFloat());
        SetupCheck.sameBits("convertFloatToBFloat16", convertFloatToBFloat16().clone(), plainFloatToBFloat16());
        SetupCheck.sameBits("convertBFloat16ToFloat", convertBFloat16ToFloat().clone(), plainBFloat16ToFloat());
    }

    @Benchmark
    public short[] convertFloatToHalf() {
        Convert.floatToHalf(f32, 0, out16, 0, n);
        return out16;
    }

    @Benchmark
    public float[] convertHalfToFloat() {
        Convert.halfToFloat(f16, 0, f32Out, 0, n);
        return f32Out;
    }

    @Benchmark
    public short[] convertFloatToBFloat16() {
        Convert.floatToBFloat16(f32, 0, out16, 0, n);
        return out16;
    }

    @Benchmark
    public float[] convertBFloat16ToFloat() {
        Convert.bfloat16ToFloat(bf16, 0, f32Out, 0, n);
        return f32Out;
    }

    /** The JDK's intrinsic in a plain loop on one thread. */
    @Benchmark
    public short[] plainFloatToHalf() {
        float[] src = f32;
        short[] dst = out16;
        for (int i = 0; i < src.length; i++) {
            dst[i] = Float.floatToFloat16(src[i]);
        }
        return dst;
    }

    /** The JDK's intrinsic in a plain loop on one thread. */
    @Benchmark
    public float[] plainHalfToFloat() {
        short[] src = f16;
        float[] dst = f32Out;
        for (int i = 0; i < src.length; i++) {
            dst[i] = Float.float16ToFloat(src[i]);
        }
        return dst;
    }

    /** The per-element definition in a plain loop on one thread (what runs without the Vector API). */
    @Benchmark
    public short[] plainFloatToBFloat16() {
        float[] src = f32;
        short[] dst = out16;
        for (int i = 0; i < src.length; i++) {
            dst[i] = BFloat16.fromFloat(src[i]);
        }
        return dst;
    }

    /** The per-element definition in a plain loop on one thread (what runs without the Vector API). */
    @Benchmark
    public float[] plainBFloat16ToFloat() {
        short[] src = bf16;
        float[] dst = f32Out;
        for (int i = 0; i < src.length; i++) {
            dst[i] = BFloat16.toFloat(src[i]);
        }
        return dst;
    }

    /** Copies 3n bytes on one thread: the same 6n bytes of traffic as one conversion. */
    @Benchmark
    public byte[] copyCeiling() {
        System.arraycopy(copySrc, 0, copyDst, 0, copySrc.length);
        return copyDst;
    }

    /** Copies 3n bytes in the chunks {@link Convert} uses for n elements, on the kernel threads. */
    @Benchmark
    public byte[] copyCeilingParallel() {
        Parallel.forRange(n, Grain.CONVERT,
                (from, to) -> System.arraycopy(copySrc, 3 * from, copyDst, 3 * from, 3 * (to - from)));
        return copyDst;
    }
}
