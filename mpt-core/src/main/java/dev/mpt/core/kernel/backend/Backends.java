package dev.mpt.core.kernel.backend;

import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses, once at start-up, the backend {@link dev.mpt.core.kernel.Gemm} offers its products to,
 * from the system property {@value #PROPERTY}:
 * <ul>
 *   <li>{@code java}: mpt's Java kernels only, the reproducible mode (results bit-identical for
 *       every thread count and run);
 *   <li>{@code onednn}: oneDNN for every dtype it serves (BF16, FP16, FP32), when it loads;
 *   <li>{@code auto} (default): oneDNN when its natives are on the class path and load, for the
 *       dtypes in {@link #AUTO_ROUTES}; else the Java kernels.
 * </ul>
 * The choice is logged once, with oneDNN's version and the CPU ISA it generates code for, or with
 * the reason it is off. Nothing here fails: a missing, unsupported or broken native library, or a
 * property value not listed, leaves the Java kernels in charge.
 */
public final class Backends {

    /** System property naming the GEMM backend: {@code java}, {@code onednn} or {@code auto}. */
    public static final String PROPERTY = "mpt.backend";

    /**
     * What {@code auto} routes to oneDNN: BF16 products, on CPUs with BF16 dot-product instructions
     * (avx512_bf16, AMX). Measured on AMD EPYC Zen 5 (avx512_bf16, 2 threads; GemmBackendBenchmark
     * and TrainingStepBenchmark, README "Native backend"): oneDNN's BF16 primitive runs the MLP's
     * products 2-2.7x faster than the Java kernels, while its FP32 primitive gained 5-50% and FP16
     * (widened to FP32 on a CPU without FP16 matmul) 10-65%, within the machine's noise at the
     * level of a training step. Those gains do not pay for giving up bit-reproducible results, so
     * {@code auto} keeps the Java kernels for FP32 and FP16, and for everything on CPUs without
     * BF16 instructions.
     */
    static final OneDnnGemm.Routes AUTO_ROUTES =
            new OneDnnGemm.Routes(false, false, true, OneDnnGemm.ISA_AVX512_CORE_BF16);

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private static final GemmBackend GEMM = select(System.getProperty(PROPERTY, "auto"), Backends::loadOneDnn);

    private Backends() {
    }

    /** The GEMM backend chosen at start-up; {@link GemmBackend#JAVA} unless oneDNN was chosen and loaded. */
    public static GemmBackend gemm() {
        return GEMM;
    }

    /**
     * oneDNN for every dtype it serves, whatever {@value #PROPERTY} says: for tests and benchmarks
     * that compare backends in one JVM. Loaded on the first call; empty (with the reason logged)
     * when it does not load.
     */
    public static Optional<GemmBackend> oneDnn() {
        return OneDnnHolder.BACKEND;
    }

    private static final class OneDnnHolder {
        static final Optional<GemmBackend> BACKEND = load();

        private static Optional<GemmBackend> load() {
            try {
                return Optional.of(loadOneDnn(OneDnnGemm.Routes.ALL));
            } catch (Exception | LinkageError e) {
                LOG.warn("oneDNN backend unavailable: {}", e.toString());
                return Optional.empty();
            }
        }
    }

    /** Loads a backend for the given routes, or throws with the reason it cannot. */
    @FunctionalInterface
    interface Loader {
        GemmBackend load(OneDnnGemm.Routes routes) throws Exception;
    }

    /** Loads oneDNN from this class's class loader. */
    static GemmBackend loadOneDnn(OneDnnGemm.Routes routes) throws Exception {
        return OneDnnGemm.load(Backends.class.getClassLoader(), NativeLibraries.platform(),
                NativeLibraries.cacheRoot(), routes);
    }

    /** The backend for property value {@code mode}, loaded with {@code loader}; logs the choice once. */
    static GemmBackend select(String mode, Loader loader) {
        String m = mode.strip().toLowerCase(Locale.ROOT);
        if (m.equals("java")) {
            LOG.info("mpt GEMM backend: java (-D{}=java)", PROPERTY);
            return GemmBackend.JAVA;
        }
        if (!m.equals("onednn") && !m.equals("auto")) {
            LOG.warn("mpt GEMM backend: java; unknown -D{}={} (use java, onednn or auto)",
                    PROPERTY, mode);
            return GemmBackend.JAVA;
        }
        boolean asked = m.equals("onednn");
        try {
            GemmBackend backend = loader.load(asked ? OneDnnGemm.Routes.ALL : AUTO_ROUTES);
            LOG.info("mpt GEMM backend: {}", backend);
            return backend;
        } catch (NativeLibraries.AbsentException e) {
            String fix = "add the runtime dependency org.bytedeco:dnnl (classifier linux-x86_64) for BF16 speed";
            if (asked) {
                LOG.warn("mpt GEMM backend: java; -D{}=onednn but {}: {}", PROPERTY, e.getMessage(), fix);
            } else {
                LOG.info("mpt GEMM backend: java (oneDNN natives not on the class path; {})", fix);
            }
        } catch (Exception | LinkageError e) {
            LOG.warn("mpt GEMM backend: java; oneDNN did not load: {}", e.toString());
        }
        return GemmBackend.JAVA;
    }
}
