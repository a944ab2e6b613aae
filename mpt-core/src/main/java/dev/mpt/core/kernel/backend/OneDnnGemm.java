package dev.mpt.core.kernel.backend;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GEMM through oneDNN's matmul primitive, called with the FFM API. BF16 operands use the BF16
 * primitive ({@code vdpbf16ps} on avx512_bf16, AMX where present); FP32 the FP32 primitive; FP16
 * the FP16 primitive where the CPU has one, else the operands are widened exactly to FP32 and take
 * the FP32 primitive (never rounded through BF16, which would drop 3 mantissa bits). oneDNN
 * accumulates in FP32 and writes an FP32 C (a 16-bit C is rounded from it by {@code Gemm}), so
 * the error bound of {@link dev.mpt.core.kernel.Gemm} holds; the summation order is oneDNN's and
 * may differ between thread counts and from the Java kernels.
 *
 * <p>Operands are copied into per-thread off-heap {@link Staging} (reused across calls); strided
 * and transposed layouts are described to oneDNN, not rearranged. oneDNN streams are not tied to
 * threads: a product borrows an idle one from a shared pool and returns it, so there are never
 * more streams than products that ever ran at once, however often the kernel pool's threads are
 * replaced ({@link dev.mpt.core.kernel.Parallel#setThreads}, or idle workers retiring). A product
 * is declined (the Java kernels compute it) when it is smaller than {@link #MIN_WORK}, when its
 * dtype is not routed here, when oneDNN has no non-reference implementation for it, or when a
 * native call fails; each such reason is logged once.
 */
final class OneDnnGemm implements GemmBackend {

    private static final Logger LOG = LoggerFactory.getLogger(OneDnnGemm.class);

    /** The only platform whose natives this backend knows how to load. */
    static final String PLATFORM = "linux-x86_64";

    /** {@code dnnl_cpu_isa_t} avx2: below it oneDNN's kernels do not beat mpt's; the floor of every route. */
    static final int ISA_AVX2 = 0x7;

    /** {@code dnnl_cpu_isa_t} avx512_core_bf16: the first with BF16 dot-product instructions. */
    static final int ISA_AVX512_CORE_BF16 = 0xe7;

    /**
     * Products with {@code m n k} below this stay in Java: the staging copies and the native call
     * cost a few microseconds, which a product this small does not repay (GemmBackendBenchmark).
     */
    static final long MIN_WORK = 64L * 64 * 64;

    /**
     * Which input dtypes this backend computes, and the lowest {@code dnnl_cpu_isa_t} it loads on
     * (on a lesser CPU, loading fails and the Java kernels stay).
     */
    record Routes(boolean fp32, boolean fp16, boolean bf16, int minIsa) {
        /** Every dtype, on any CPU from AVX2 up ({@code -Dmpt.backend=onednn}). */
        static final Routes ALL = new Routes(true, true, true, ISA_AVX2);

        @Override
        public String toString() {
            return ((bf16 ? "BF16 " : "") + (fp16 ? "FP16 " : "") + (fp32 ? "FP32" : "")).strip();
        }
    }

    private final Dnnl dnnl;
    private final MemorySegment engine;
    private final MatmulPrimitives primitives;
    private final Routes routes;
    private final String description;
    private final ThreadLocal<Staging> staging = ThreadLocal.withInitial(Staging::new);
    private final ConcurrentLinkedDeque<MemorySegment> idleStreams = new ConcurrentLinkedDeque<>();
    private final AtomicInteger streams = new AtomicInteger();
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    private volatile boolean f16Native = true;

    private OneDnnGemm(Dnnl dnnl, MemorySegment engine, MatmulPrimitives primitives, Routes routes,
                       String description) {
        this.dnnl = dnnl;
        this.engine = engine;
        this.primitives = primitives;
        this.routes = routes;
        this.description = description;
    }

    /** A backend whose primitives come from {@code factory} and that never reaches native code (tests). */
    static OneDnnGemm withFactory(MatmulPrimitives.Factory factory, Routes routes) {
        return new OneDnnGemm(null, null, new MatmulPrimitives(factory), routes, "oneDNN (test factory)");
    }

    /**
     * Loads oneDNN from Bytedeco's natives jar on {@code loader}'s class path
     * ({@code org.bytedeco:dnnl:<version>:<platform>}) and creates its CPU engine.
     *
     * @throws NativeLibraries.AbsentException if the natives for {@code platform} are not on the class path
     * @throws UnsupportedOperationException if the platform or CPU is not one this backend serves
     * @throws IOException if the natives cannot be copied to {@code cacheRoot}
     * @throws IllegalArgumentException if a library does not load (the dynamic linker's message)
     * @throws IllegalStateException if a symbol is missing or the engine cannot be created
     */
    static OneDnnGemm load(ClassLoader loader, String platform, Path cacheRoot, Routes routes)
            throws NativeLibraries.AbsentException, IOException {
        if (!PLATFORM.equals(platform)) {
            throw new UnsupportedOperationException("mpt loads oneDNN on " + PLATFORM + " only; this JVM runs on "
                    + platform);
        }
        passiveOpenMpWaits();
        String folder = "org/bytedeco/dnnl/" + platform;
        String version = NativeLibraries.mavenVersion(loader, "org.bytedeco", "dnnl");
        List<SymbolLookup> libs = NativeLibraries.load(loader, folder,
                cacheRoot.resolve("dnnl-" + (version == null ? "unknown" : version)),
                List.of("libgomp.so.1", "libdnnl.so.3"));
        Dnnl dnnl = new Dnnl(libs.get(1), libs.get(0));
        int isa = dnnl.effectiveCpuIsa();
        if (isa < routes.minIsa()) {
            throw new UnsupportedOperationException("oneDNN reports CPU ISA " + Dnnl.isaName(isa) + "; mpt uses it for "
                    + routes + " from " + Dnnl.isaName(routes.minIsa()) + " up");
        }
        MemorySegment slot = Arena.ofAuto().allocate(ADDRESS);
        int status = dnnl.engineCreate(slot, Dnnl.ENGINE_CPU, 0);
        if (status != Dnnl.SUCCESS) {
            throw new IllegalStateException("dnnl_engine_create returned status " + status);
        }
        MemorySegment engine = Dnnl.out(slot);
        String description = "oneDNN " + dnnl.version() + " (ISA " + Dnnl.isaName(isa) + ", natives "
                + (version == null ? "unknown version" : version) + ") for " + routes;
        return new OneDnnGemm(dnnl, engine, new MatmulPrimitives(dnnl, engine), routes, description);
    }

    /**
     * Sets {@code OMP_WAIT_POLICY=PASSIVE} for libgomp, unless the environment already names a
     * policy: between native products the JVM's own kernel threads need the cores, and OpenMP
     * workers spinning after each call slowed the Java side (and small products) several-fold on a
     * 2-core machine. libgomp reads its environment when it is loaded, so this runs before.
     */
    private static void passiveOpenMpWaits() {
        var linker = Linker.nativeLinker();
        var setenv = linker.defaultLookup().find("setenv");
        if (setenv.isEmpty()) {
            return;
        }
        var handle = linker.downcallHandle(setenv.get(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        try (var arena = Arena.ofConfined()) {
            int ignored = (int) handle.invokeExact(arena.allocateFrom("OMP_WAIT_POLICY"),
                    arena.allocateFrom("PASSIVE"), 0);
        } catch (Throwable t) {
            LOG.debug("could not set OMP_WAIT_POLICY: {}", t.toString());
        }
    }

    @Override
    public String name() {
        return "onednn";
    }

    @Override
    public String toString() {
        return description;
    }

    @Override
    public boolean sgemm(int threads, boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                         float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        return routes.fp32() && multiply(threads, Dnnl.F32, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, beta,
                c, cOff, ldc);
    }

    @Override
    public boolean gemm16(int threads, boolean bf16, boolean transA, boolean transB, int m, int n, int k, short[] a, int aOff,
                          int lda, short[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        return computes16(bf16) && multiply(threads, bf16 ? Dnnl.BF16 : Dnnl.F16, transA, transB,
                m, n, k, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public boolean computes16(boolean bf16) {
        return bf16 ? routes.bf16() : routes.fp16();
    }

    /**
     * {@code C = op(A) op(B) + beta C} with inputs stored as {@code in} ({@code dnnl_data_type_t})
     * and an FP32 C; false (C untouched) when declined.
     */
    private boolean multiply(int threads, int in, boolean transA, boolean transB, int m, int n, int k,
                             Object a, int aOff, int lda, Object b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        if ((long) m * n * k < MIN_WORK) {
            return false;
        }
        int src = in == Dnnl.F16 && !f16Native ? Dnnl.F32 : in;
        try {
            boolean[] uncached = new boolean[1];
            MatmulPrimitives.Entry e = primitives.get(key(m, n, k, transA, transB, lda, ldb, src, beta, threads),
                    uncached);
            if (!e.usable() && src == Dnnl.F16) {
                f16Native = false;
                once(false, "oneDNN has no FP16 matmul on this CPU (" + e.impl()
                        + "): FP16 operands are widened exactly to FP32 for the FP32 primitive");
                src = Dnnl.F32;
                e = primitives.get(key(m, n, k, transA, transB, lda, ldb, src, beta, threads), uncached);
            }
            if (!e.usable()) {
                once(false, "oneDNN declines " + typeName(src) + " x " + typeName(src) + " -> FP32 matmul (" + e.impl()
                        + "): mpt's Java kernels compute those products");
                return false;
            }
            try {
                execute(e, in, src, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, threads);
            } finally {
                if (uncached[0]) {
                    primitives.release(e);
                }
            }
            return true;
        } catch (RuntimeException | LinkageError ex) {
            once(true, "oneDNN GEMM failed (" + ex + "): mpt's Java kernels compute this and later such products");
            return false;
        }
    }

    private static MatmulPrimitives.Key key(int m, int n, int k, boolean transA, boolean transB, int lda, int ldb,
                                            int src, float beta, int threads) {
        return new MatmulPrimitives.Key(m, n, k, transA, transB, lda, ldb, src, Dnnl.F32, beta, threads);
    }

    private void execute(MatmulPrimitives.Entry e, int in, int src, boolean transA, boolean transB, int m, int n,
                         int k, Object a, int aOff, int lda, Object b, int bOff, int ldb, float beta,
                         float[] c, int cOff, int ldc, int threads) {
        int aCount = extent(transA ? k : m, transA ? m : k, lda);
        int bCount = extent(transB ? n : k, transB ? k : n, ldb);
        Staging st = staging.get();
        st.reserve((long) aCount * bytes(src), (long) bCount * bytes(src), (long) m * n * 4, e.scratchBytes());
        stageIn(a, aOff, aCount, in, src, st.a, st.chunk);
        stageIn(b, bOff, bCount, in, src, st.b, st.chunk);
        if (beta != 0f) {
            for (int i = 0; i < m; i++) {
                MemorySegment.copy(c, cOff + i * ldc, st.c, JAVA_FLOAT, (long) i * n * 4, n);
            }
        }
        dnnl.ompSetNumThreads(threads);
        MemorySegment stream = borrowStream(st);
        int nargs = e.scratchBytes() > 0 ? 4 : 3;
        MemorySegment[] mems = new MemorySegment[nargs];
        try {
            mems[0] = memory(st, e.mdA(), st.a);
            mems[1] = memory(st, e.mdB(), st.b);
            mems[2] = memory(st, e.mdC(), st.c);
            if (nargs == 4) {
                mems[3] = memory(st, e.mdScratch(), st.scratch);
            }
            int[] ids = {Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_DST, Dnnl.ARG_SCRATCHPAD};
            for (int i = 0; i < nargs; i++) {
                st.args.set(JAVA_INT, i * Dnnl.EXEC_ARG_BYTES, ids[i]);
                st.args.set(ADDRESS, i * Dnnl.EXEC_ARG_BYTES + Dnnl.EXEC_ARG_MEMORY_OFFSET, mems[i]);
            }
            check(dnnl.primitiveExecute(e.primitive(), stream, nargs, st.args), "dnnl_primitive_execute");
            check(dnnl.streamWait(stream), "dnnl_stream_wait");
        } finally {
            for (MemorySegment mem : mems) {
                if (mem != null) {
                    dnnl.memoryDestroy(mem);
                }
            }
            idleStreams.push(stream);
        }
        if (ldc == n) {
            MemorySegment.copy(st.c, JAVA_FLOAT, 0, c, cOff, m * n);
        } else {
            for (int i = 0; i < m; i++) {
                MemorySegment.copy(st.c, JAVA_FLOAT, (long) i * n * 4, c, cOff + i * ldc, n);
            }
        }
    }

    /** An idle stream from the pool, or a new one when every stream is in use. */
    private MemorySegment borrowStream(Staging st) {
        MemorySegment stream = idleStreams.poll();
        if (stream == null) {
            check(dnnl.streamCreate(st.slot, engine, Dnnl.STREAM_IN_ORDER), "dnnl_stream_create");
            stream = Dnnl.out(st.slot);
            streams.incrementAndGet();
        }
        return stream;
    }

    /** How many oneDNN streams this backend has created (tests: it stays at the peak concurrency). */
    int streamCount() {
        return streams.get();
    }

    private MemorySegment memory(Staging st, MemorySegment md, MemorySegment data) {
        check(dnnl.memoryCreate(st.slot, md, engine, data), "dnnl_memory_create");
        return Dnnl.out(st.slot);
    }

    /** Elements spanned by a stored {@code rows x cols} matrix with leading dimension {@code ld}. */
    private static int extent(int rows, int cols, int ld) {
        return (rows - 1) * ld + cols;
    }

    private static int bytes(int type) {
        return type == Dnnl.F32 ? 4 : 2;
    }

    /** Copies {@code count} elements of {@code x} from {@code off}: as stored, or FP16 widened to FP32. */
    private static void stageIn(Object x, int off, int count, int in, int src, MemorySegment to, float[] chunk) {
        if (in == Dnnl.F32) {
            MemorySegment.copy(x, off, to, JAVA_FLOAT, 0, count);
        } else if (src == in) {
            MemorySegment.copy(x, off, to, JAVA_SHORT, 0, count);
        } else {
            short[] h = (short[]) x;    // FP16 widened for the FP32 primitive
            for (int done = 0; done < count; done += chunk.length) {
                int len = Math.min(chunk.length, count - done);
                for (int i = 0; i < len; i++) {
                    chunk[i] = Float.float16ToFloat(h[off + done + i]);
                }
                MemorySegment.copy(chunk, 0, to, JAVA_FLOAT, (long) done * 4, len);
            }
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case Dnnl.F32 -> "FP32";
            case Dnnl.BF16 -> "BF16";
            case Dnnl.F16 -> "FP16";
            default -> "type " + type;
        };
    }

    /** Logs {@code message} the first time it occurs: as a warning for failures, else as information. */
    private void once(boolean failure, String message) {
        if (logged.add(message)) {
            if (failure) {
                LOG.warn(message);
            } else {
                LOG.info(message);
            }
        }
    }

    private static void check(int status, String what) {
        if (status != Dnnl.SUCCESS) {
            throw new IllegalStateException(what + " returned status " + status);
        }
    }
}
