package dev.mpt.bench;

import dev.mpt.core.kernel.backend.Backends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * mpt's half of the peer benchmark, and its report: runs the JMH benchmarks whose twins
 * {@code mpt-bench/peer/torch_steps.py} times in PyTorch, then prints one table of both, with
 * ratios. {@code mpt-bench/peer/run.sh} runs the two back to back; this class only reads the
 * PyTorch results file it is given.
 *
 * <p>Cases, all on {@link #THREADS} threads, each in one JMH fork in {@link Mode#SampleTime}
 * (every step timed; the median and mean are reported), with the warm-up and measurement
 * iterations written on each benchmark class:
 * <ul>
 *   <li>mlp: {@link TrainingStepBenchmark} (784-1024-1024-10, batch 256, SGD with momentum);
 *   <li>cnn: {@link FashionCnnStepBenchmark} (the fashion-cnn example's model, batch 128, Adam);
 *   <li>lstm: {@link CharLstmStepBenchmark} (the char-lstm example's model, batch 32 x 64, Adam,
 *       clipping);
 *   <li>gpt: {@link CharGptStepBenchmark} (the char-gpt example's model, 4 blocks of width 128,
 *       batch 32 x 128, dropout 0.1, AdamW in two groups);
 *   <li>gemm: {@link GemmBenchmark} at n = {@link #GEMM_N}: FP32, FP16 in and BF16 in, FP32 out,
 *       the Java kernels ({@code -Dmpt.backend=java} in its fork), and, where oneDNN loads,
 *       {@link GemmBackendBenchmark}'s BF16 product through it;
 *   <li>the FP32 ceiling: {@link PeakFlopsBenchmark} on two threads.
 * </ul>
 *
 * <p>mpt runs with its default GEMM backend ({@code -Dmpt.backend=auto}: oneDNN for BF16 products
 * where the CPU has BF16 instructions and the natives load, the Java kernels otherwise); give this
 * JVM {@code -Dmpt.backend=java} (or {@code onednn}) to measure another, the forks follow it.
 *
 * <p>Usage: {@code java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp
 * mpt-bench/target/benchmarks.jar dev.mpt.bench.PeerBenchmark [TORCH_RESULTS.tsv [LOG_DIR]]}. JMH's own output goes to
 * {@code LOG_DIR} (default {@code mpt-bench/target/peer}), one file per case.
 */
public final class PeerBenchmark {

    /** Threads on both sides: the 2-core machines mpt is measured on. */
    static final int THREADS = 2;

    /** GEMM size compared (GemmBenchmark's and torch_steps.py's). */
    static final int GEMM_N = 1024;

    /**
     * The forks' flags (they replace the benchmarks' own): the Vector API, native access for the
     * oneDNN backend, and {@code -Dmpt.backend}: this JVM's for the training steps, so they use
     * the backend reported in the table.
     */
    private static final String BACKEND = System.getProperty(Backends.PROPERTY, "auto");

    /**
     * The GEMM line's backend: GemmBenchmark times the Java kernels, and its setup checks them bit
     * for bit against the in-order FMA chain, which a native backend's summation order fails.
     */
    private static final String GEMM_BACKEND = "java";

    /** The mpt precisions and the PyTorch columns they are compared with. */
    private static final List<String> PRECISIONS = List.of("FP32", "MIXED_FP16", "MIXED_BF16");

    /** One timed case: median and mean milliseconds. */
    record Timing(double medianMs, double meanMs) {
        String format() {
            return String.format(Locale.ROOT, "%.2f (%.2f)", medianMs, meanMs);
        }
    }

    private final Path logDir;

    private PeerBenchmark(Path logDir) {
        this.logDir = logDir;
    }

    public static void main(String[] args) throws IOException, RunnerException {
        if (args.length > 2) {
            throw new IllegalArgumentException("PeerBenchmark: expected [TORCH_RESULTS.tsv [LOG_DIR]], got "
                    + args.length + " arguments");
        }
        Map<String, Timing> torch = readTorch(args.length > 0 ? Path.of(args[0]) : null);
        Path logDir = Path.of(args.length > 1 ? args[1] : "mpt-bench/target/peer");
        Files.createDirectories(logDir);
        new PeerBenchmark(logDir).run(torch);
    }

    private void run(Map<String, Timing> torch) throws RunnerException {
        System.out.printf(Locale.ROOT, "mpt: Java %s, %d threads, %s, GEMM backend %s (-D%s=%s); JMH logs in %s%n",
                Runtime.version(), THREADS, vectorLanes(), Backends.gemm(), Backends.PROPERTY,
                BACKEND, logDir);
        Map<String, Timing> mlp = steps("mlp", TrainingStepBenchmark.class, "step");
        Map<String, Timing> cnn = steps("cnn", FashionCnnStepBenchmark.class, "step");
        Map<String, Timing> lstm = steps("lstm", CharLstmStepBenchmark.class, "step");
        Map<String, Timing> gpt = steps("gpt", CharGptStepBenchmark.class, "step");
        Map<String, Timing> gemm = byMethod(jmh("gemm", GemmBenchmark.class, "(sgemm|fp16InFp32Out|bf16InFp32Out)",
                Map.of("n", String.valueOf(GEMM_N), "threads", String.valueOf(THREADS)), GEMM_BACKEND));
        // the native BF16 product, where oneDNN loads (GemmBackendBenchmark calls it directly; its fork
        // keeps -Dmpt.backend=java so nothing else routes there)
        Timing nativeBf16 = Backends.oneDnn().isEmpty() ? null
                : byMethod(jmh("gemm-onednn", GemmBackendBenchmark.class, "gemm",
                        Map.of("shape", GEMM_N + "x" + GEMM_N + "x" + GEMM_N, "dtype", "BF16", "backend", "onednn",
                                "threads", String.valueOf(THREADS)), GEMM_BACKEND)).get("gemm");
        Timing peak = byMethod(jmh("peak", PeakFlopsBenchmark.class, "twoThreads", Map.of(), BACKEND))
                .get("twoThreads");

        System.out.println();
        System.out.printf(Locale.ROOT, "## Training steps, %d threads: ms per step, median (mean)%n%n", THREADS);
        System.out.println("Ratio = mpt time / PyTorch time (above 1: mpt is slower).");
        System.out.println();
        System.out.println("| model | mpt precision | mpt | PyTorch fp32 | PyTorch bf16 autocast | vs PyTorch fp32 "
                + "| vs PyTorch bf16 |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
        for (var model : List.of(Map.entry("mlp", mlp), Map.entry("cnn", cnn), Map.entry("lstm", lstm),
                Map.entry("gpt", gpt))) {
            Timing fp32 = torch.get(model.getKey() + "/fp32");
            Timing bf16 = torch.get(model.getKey() + "/bf16");
            for (String p : PRECISIONS) {
                Timing m = model.getValue().get(p);
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", model.getKey(), p, cell(m),
                        cell(fp32), cell(bf16), ratio(m, fp32), ratio(m, bf16));
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "## GEMM C = A B, n = %d, %d threads: ms per multiply, median (mean), "
                + "GFLOP/s of the median%n%n", GEMM_N, THREADS);
        System.out.println("| kernel | ms | GFLOP/s | vs torch.mm fp32 (time ratio) |");
        System.out.println("| --- | --- | --- | --- |");
        Timing mmFp32 = torch.get("gemm/fp32");
        gemmRow("torch.mm fp32 (its BLAS)", mmFp32, mmFp32);
        gemmRow("torch.mm bf16", torch.get("gemm/bf16"), mmFp32);
        gemmRow("mpt FP32 (Java kernels)", gemm.get("sgemm"), mmFp32);
        gemmRow("mpt FP16 in, FP32 out (Java kernels)", gemm.get("fp16InFp32Out"), mmFp32);
        gemmRow("mpt BF16 in, FP32 out (Java kernels)", gemm.get("bf16InFp32Out"), mmFp32);
        if (nativeBf16 != null) {
            gemmRow("mpt BF16 in, FP32 out (oneDNN, staging copies included)", nativeBf16, mmFp32);
        }
        if (peak != null) {
            // twoThreads scores milliseconds per call per thread; each call is FLOP_PER_CALL on each thread
            System.out.printf(Locale.ROOT, "%nFP32 ceiling (PeakFlopsBenchmark, 2 threads of FMA chains): %.0f GFLOP/s%n",
                    2 * PeakFlopsBenchmark.FLOP_PER_CALL / (peak.medianMs() * 1e6));
        }
        if (torch.isEmpty()) {
            System.out.println();
            System.out.println("No PyTorch results: the PyTorch columns are n/a (see torch_steps.py's output above).");
        }
    }

    private Map<String, Timing> steps(String label, Class<?> benchmark, String method) throws RunnerException {
        Map<String, Timing> byPrecision = new HashMap<>();
        for (RunResult r : jmh(label, benchmark, method, Map.of("threads", String.valueOf(THREADS)), BACKEND)) {
            byPrecision.put(r.getParams().getParam("precision"), timing(r));
        }
        return byPrecision;
    }

    private List<RunResult> jmh(String label, Class<?> benchmark, String methods, Map<String, String> params,
                                String backend) throws RunnerException {
        Path log = logDir.resolve("jmh-" + label + ".txt");
        System.out.printf("mpt: %s (%s.%s) ...%n", label, benchmark.getSimpleName(), methods);
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include("^" + Pattern.quote(benchmark.getName()) + "\\." + methods + "$")
                .jvmArgsAppend("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                        "-D" + Backends.PROPERTY + "=" + backend)
                .mode(Mode.SampleTime)
                .timeUnit(TimeUnit.MILLISECONDS)
                .forks(1)
                .output(log.toString());
        params.forEach(o::param);
        List<RunResult> results = new ArrayList<>(new Runner(o.build()).run());
        if (results.isEmpty()) {
            throw new IllegalStateException("PeerBenchmark: JMH ran nothing for " + label + "; see " + log);
        }
        for (RunResult r : results) {
            String precision = r.getParams().getParam("precision");
            System.out.printf(Locale.ROOT, "  %s%s: %s ms%n", method(r), precision == null ? "" : " " + precision,
                    timing(r).format());
        }
        return results;
    }

    private static Map<String, Timing> byMethod(List<RunResult> results) {
        Map<String, Timing> m = new HashMap<>();
        for (RunResult r : results) {
            m.put(method(r), timing(r));
        }
        return m;
    }

    private static String method(RunResult r) {
        String benchmark = r.getParams().getBenchmark();
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }

    private static Timing timing(RunResult r) {
        Result<?> primary = r.getPrimaryResult();
        return new Timing(primary.getStatistics().getPercentile(50), primary.getScore());
    }

    private static void gemmRow(String name, Timing t, Timing mm) {
        double gflops = t == null ? Double.NaN : 2.0 * GEMM_N * GEMM_N * GEMM_N / (t.medianMs() * 1e6);
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %s |%n", name, cell(t),
                t == null ? "n/a" : String.format(Locale.ROOT, "%.0f", gflops), ratio(t, mm));
    }

    private static String cell(Timing t) {
        return t == null ? "n/a" : t.format();
    }

    /** mpt's median over the peer's, or n/a. */
    private static String ratio(Timing mpt, Timing peer) {
        return mpt == null || peer == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", mpt.medianMs() / peer.medianMs());
    }

    private static String vectorLanes() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "no Vector API in this JVM (the benchmarks' forks add it)";
        }
        return PeakFlopsBenchmark.LANES + "-lane FloatVector.SPECIES_PREFERRED";
    }

    /**
     * torch_steps.py's results: {@code case<TAB>precision<TAB>median_ms<TAB>mean_ms<TAB>steps}
     * lines, '#' comments; keyed {@code case/precision}. Empty when the file is absent or null.
     */
    static Map<String, Timing> readTorch(Path file) throws IOException {
        Map<String, Timing> m = new HashMap<>();
        if (file == null || !Files.exists(file)) {
            return m;
        }
        int n = 0;
        for (String line : Files.readAllLines(file)) {
            n++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            if (f.length < 4) {
                throw new IOException("PeerBenchmark: " + file + " line " + n + " has " + f.length
                        + " tab-separated fields, expected case, precision, median_ms, mean_ms, steps: '" + line + "'");
            }
            try {
                m.put(f[0] + "/" + f[1], new Timing(Double.parseDouble(f[2]), Double.parseDouble(f[3])));
            } catch (NumberFormatException e) {
                throw new IOException("PeerBenchmark: " + file + " line " + n + ": median or mean is not a number: '"
                        + line + "'", e);
            }
        }
        return m;
    }
}
