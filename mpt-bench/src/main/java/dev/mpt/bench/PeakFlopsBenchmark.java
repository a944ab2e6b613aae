package dev.mpt.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The machine's measured FP32 fused-multiply-add ceiling, the yardstick for the GEMM figures:
 * twelve independent {@code FloatVector} FMA chains (enough to cover the FMA latency on both FMA
 * pipes) with no memory traffic, on one thread and on two threads at once.
 *
 * <p>The vectors are {@link FloatVector#SPECIES_PREFERRED}: 8 lanes on AVX2, 16 on AVX-512 (the
 * trial logs which). Each call performs {@link #FLOP_PER_CALL} = 6.144e8 FLOP whatever the
 * width, as {@link #iterations()} rounds of 12 vector FMAs of {@link #LANES} floats; scores are
 * milliseconds per call per thread, so {@code GFLOP/s per thread = 614.4 / t_ms}, and the
 * two-thread figure is twice that of its score.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class PeakFlopsBenchmark {

    /** FLOP per call: 2 x 12 chains x lanes x iterations, chosen as 1.6M iterations of 16 lanes. */
    public static final long FLOP_PER_CALL = 614_400_000L;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Floats per vector ({@link FloatVector#SPECIES_PREFERRED}: 8 on AVX2, 16 on AVX-512). */
    public static final int LANES = S.length();

    private static final int ITERATIONS = iterations();

    private final float seed = 1.0000001f;

    /** Vector FMAs per chain per call: {@link #FLOP_PER_CALL} / (24 x {@link #LANES}). */
    public static int iterations() {
        return (int) (FLOP_PER_CALL / (24L * LANES));
    }

    /** Says once per trial (on its first thread) which vectors the figures come from. */
    @Setup(Level.Trial)
    public void report(ThreadParams thread) {
        if (thread.getThreadIndex() != 0) {
            return;
        }
        System.out.printf("PeakFlopsBenchmark: %d-lane FloatVector (%s), %d iterations of 12 FMAs per call,"
                + " GFLOP/s per thread = 614.4 / t_ms%n", LANES, S, ITERATIONS);
    }

    /** One thread. */
    @Benchmark
    @Threads(1)
    public float oneThread() {
        return chains();
    }

    /** Two threads at once (both cores of the 2-core machines these figures are quoted for). */
    @Benchmark
    @Threads(2)
    public float twoThreads() {
        return chains();
    }

    private float chains() {
        FloatVector m = FloatVector.broadcast(S, seed);
        FloatVector add = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < ITERATIONS; i++) {
            c0 = c0.fma(m, add); c1 = c1.fma(m, add); c2 = c2.fma(m, add); c3 = c3.fma(m, add);
            c4 = c4.fma(m, add); c5 = c5.fma(m, add); c6 = c6.fma(m, add); c7 = c7.fma(m, add);
            c8 = c8.fma(m, add); c9 = c9.fma(m, add); c10 = c10.fma(m, add); c11 = c11.fma(m, add);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }
}
