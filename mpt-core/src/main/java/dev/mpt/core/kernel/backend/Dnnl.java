package dev.mpt.core.kernel.backend;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Hand-written {@code java.lang.foreign} bindings to the part of oneDNN's C API (v3,
 * {@code oneapi/dnnl/dnnl.h}) that mpt uses: engine and stream, strided memory descriptors, the
 * matmul primitive with a sum post-op and a user-managed scratchpad, and the CPU ISA query; plus
 * libgomp's {@code omp_set_num_threads}. Each method returns the C function's {@code dnnl_status_t}
 * (0 = success) or value; handles are {@link MemorySegment} addresses. Constants are the C enum
 * values of the same name.
 */
final class Dnnl {

    static final int SUCCESS = 0;
    static final int UNIMPLEMENTED = 3;

    /** {@code dnnl_data_type_t}. */
    static final int F16 = 1;
    static final int BF16 = 2;
    static final int F32 = 3;

    static final int ENGINE_CPU = 1;
    static final int STREAM_IN_ORDER = 1;
    static final int SCRATCHPAD_MODE_USER = 1;
    static final int QUERY_IMPL_INFO_STR = 8;
    static final int QUERY_SCRATCHPAD_MD = 136;

    static final int ARG_SRC = 1;
    static final int ARG_DST = 17;
    static final int ARG_WEIGHTS = 33;
    static final int ARG_SCRATCHPAD = 80;

    /** {@code dnnl_exec_arg_t}: {@code int arg; dnnl_memory_t memory;} (16 bytes with padding). */
    static final long EXEC_ARG_BYTES = 16;
    static final long EXEC_ARG_MEMORY_OFFSET = 8;

    private static final Linker LINKER = Linker.nativeLinker();

    private final MethodHandle engineCreate;
    private final MethodHandle streamCreate;
    private final MethodHandle memoryDescCreateWithStrides;
    private final MethodHandle memoryDescDestroy;
    private final MethodHandle memoryDescGetSize;
    private final MethodHandle attrCreate;
    private final MethodHandle attrDestroy;
    private final MethodHandle attrSetScratchpadMode;
    private final MethodHandle attrSetPostOps;
    private final MethodHandle postOpsCreate;
    private final MethodHandle postOpsDestroy;
    private final MethodHandle postOpsAppendSum;
    private final MethodHandle matmulPrimitiveDescCreate;
    private final MethodHandle primitiveDescQuery;
    private final MethodHandle primitiveDescQueryMd;
    private final MethodHandle primitiveDescDestroy;
    private final MethodHandle primitiveCreate;
    private final MethodHandle primitiveDestroy;
    private final MethodHandle memoryCreate;
    private final MethodHandle memoryDestroy;
    private final MethodHandle primitiveExecute;
    private final MethodHandle streamWait;
    private final MethodHandle effectiveCpuIsa;
    private final MethodHandle version;
    private final MethodHandle ompSetNumThreads;

    /**
     * Binds every function from {@code dnnl} and {@code gomp}.
     *
     * @throws IllegalStateException naming the first symbol that is missing
     */
    Dnnl(SymbolLookup dnnl, SymbolLookup gomp) {
        FunctionDescriptor status1 = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        engineCreate = bind(dnnl, "dnnl_engine_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
        streamCreate = bind(dnnl, "dnnl_stream_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        memoryDescCreateWithStrides = bind(dnnl, "dnnl_memory_desc_create_with_strides",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        memoryDescDestroy = bind(dnnl, "dnnl_memory_desc_destroy", status1);
        memoryDescGetSize = bind(dnnl, "dnnl_memory_desc_get_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        attrCreate = bind(dnnl, "dnnl_primitive_attr_create", status1);
        attrDestroy = bind(dnnl, "dnnl_primitive_attr_destroy", status1);
        attrSetScratchpadMode = bind(dnnl, "dnnl_primitive_attr_set_scratchpad_mode",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        attrSetPostOps = bind(dnnl, "dnnl_primitive_attr_set_post_ops",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        postOpsCreate = bind(dnnl, "dnnl_post_ops_create", status1);
        postOpsDestroy = bind(dnnl, "dnnl_post_ops_destroy", status1);
        postOpsAppendSum = bind(dnnl, "dnnl_post_ops_append_sum",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_FLOAT, JAVA_INT, JAVA_INT));
        matmulPrimitiveDescCreate = bind(dnnl, "dnnl_matmul_primitive_desc_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        primitiveDescQuery = bind(dnnl, "dnnl_primitive_desc_query",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        primitiveDescQueryMd = bind(dnnl, "dnnl_primitive_desc_query_md",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
        primitiveDescDestroy = bind(dnnl, "dnnl_primitive_desc_destroy", status1);
        primitiveCreate = bind(dnnl, "dnnl_primitive_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        primitiveDestroy = bind(dnnl, "dnnl_primitive_destroy", status1);
        memoryCreate = bind(dnnl, "dnnl_memory_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        memoryDestroy = bind(dnnl, "dnnl_memory_destroy", status1);
        primitiveExecute = bind(dnnl, "dnnl_primitive_execute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        streamWait = bind(dnnl, "dnnl_stream_wait", status1);
        effectiveCpuIsa = bind(dnnl, "dnnl_get_effective_cpu_isa", FunctionDescriptor.of(JAVA_INT));
        version = bind(dnnl, "dnnl_version", FunctionDescriptor.of(ADDRESS));
        ompSetNumThreads = bind(gomp, "omp_set_num_threads", FunctionDescriptor.ofVoid(JAVA_INT));
    }

    private static MethodHandle bind(SymbolLookup lib, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lib.find(name)
                .orElseThrow(() -> new IllegalStateException("symbol " + name + " not found"));
        return LINKER.downcallHandle(symbol, fd);
    }

    /** Reads the handle a {@code T *out} argument received. */
    static MemorySegment out(MemorySegment slot) {
        return slot.get(ADDRESS, 0);
    }

    int engineCreate(MemorySegment engineOut, int kind, long index) {
        return (int) call(() -> (int) engineCreate.invokeExact(engineOut, kind, index));
    }

    int streamCreate(MemorySegment streamOut, MemorySegment engine, int flags) {
        return (int) call(() -> (int) streamCreate.invokeExact(streamOut, engine, flags));
    }

    int memoryDescCreateWithStrides(MemorySegment mdOut, int ndims, MemorySegment dims, int dataType,
                                    MemorySegment strides) {
        return (int) call(() -> (int) memoryDescCreateWithStrides.invokeExact(mdOut, ndims, dims, dataType, strides));
    }

    int memoryDescDestroy(MemorySegment md) {
        return (int) call(() -> (int) memoryDescDestroy.invokeExact(md));
    }

    long memoryDescGetSize(MemorySegment md) {
        return (long) call(() -> (long) memoryDescGetSize.invokeExact(md));
    }

    int attrCreate(MemorySegment attrOut) {
        return (int) call(() -> (int) attrCreate.invokeExact(attrOut));
    }

    int attrDestroy(MemorySegment attr) {
        return (int) call(() -> (int) attrDestroy.invokeExact(attr));
    }

    int attrSetScratchpadMode(MemorySegment attr, int mode) {
        return (int) call(() -> (int) attrSetScratchpadMode.invokeExact(attr, mode));
    }

    int attrSetPostOps(MemorySegment attr, MemorySegment postOps) {
        return (int) call(() -> (int) attrSetPostOps.invokeExact(attr, postOps));
    }

    int postOpsCreate(MemorySegment postOpsOut) {
        return (int) call(() -> (int) postOpsCreate.invokeExact(postOpsOut));
    }

    int postOpsDestroy(MemorySegment postOps) {
        return (int) call(() -> (int) postOpsDestroy.invokeExact(postOps));
    }

    int postOpsAppendSum(MemorySegment postOps, float scale, int zeroPoint, int dataType) {
        return (int) call(() -> (int) postOpsAppendSum.invokeExact(postOps, scale, zeroPoint, dataType));
    }

    int matmulPrimitiveDescCreate(MemorySegment pdOut, MemorySegment engine, MemorySegment src,
                                  MemorySegment weights, MemorySegment bias, MemorySegment dst, MemorySegment attr) {
        return (int) call(() -> (int) matmulPrimitiveDescCreate.invokeExact(pdOut, engine, src, weights, bias, dst,
                attr));
    }

    int primitiveDescQuery(MemorySegment pd, int what, int index, MemorySegment result) {
        return (int) call(() -> (int) primitiveDescQuery.invokeExact(pd, what, index, result));
    }

    MemorySegment primitiveDescQueryMd(MemorySegment pd, int what, int index) {
        return (MemorySegment) call(() -> (MemorySegment) primitiveDescQueryMd.invokeExact(pd, what, index));
    }

    int primitiveDescDestroy(MemorySegment pd) {
        return (int) call(() -> (int) primitiveDescDestroy.invokeExact(pd));
    }

    int primitiveCreate(MemorySegment primitiveOut, MemorySegment pd) {
        return (int) call(() -> (int) primitiveCreate.invokeExact(primitiveOut, pd));
    }

    int primitiveDestroy(MemorySegment primitive) {
        return (int) call(() -> (int) primitiveDestroy.invokeExact(primitive));
    }

    int memoryCreate(MemorySegment memoryOut, MemorySegment md, MemorySegment engine, MemorySegment handle) {
        return (int) call(() -> (int) memoryCreate.invokeExact(memoryOut, md, engine, handle));
    }

    int memoryDestroy(MemorySegment memory) {
        return (int) call(() -> (int) memoryDestroy.invokeExact(memory));
    }

    int primitiveExecute(MemorySegment primitive, MemorySegment stream, int nargs, MemorySegment args) {
        return (int) call(() -> (int) primitiveExecute.invokeExact(primitive, stream, nargs, args));
    }

    int streamWait(MemorySegment stream) {
        return (int) call(() -> (int) streamWait.invokeExact(stream));
    }

    /** {@code dnnl_cpu_isa_t} of the code oneDNN generates on this CPU. */
    int effectiveCpuIsa() {
        return (int) call(() -> (int) effectiveCpuIsa.invokeExact());
    }

    /** "major.minor.patch" from {@code dnnl_version()}. */
    String version() {
        MemorySegment v = ((MemorySegment) call(() -> (MemorySegment) version.invokeExact())).reinterpret(12);
        return v.get(JAVA_INT, 0) + "." + v.get(JAVA_INT, 4) + "." + v.get(JAVA_INT, 8);
    }

    /** Sets the OpenMP thread count of the calling thread's parallel regions. */
    void ompSetNumThreads(int threads) {
        call(() -> {
            ompSetNumThreads.invokeExact(threads);
            return null;
        });
    }

    /** The implementation name of a primitive descriptor, e.g. "brg_matmul:avx512_core_bf16". */
    String implInfo(MemorySegment pd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(ADDRESS);
            if (primitiveDescQuery(pd, QUERY_IMPL_INFO_STR, 0, slot) != SUCCESS) {
                return "?";
            }
            return out(slot).reinterpret(256).getString(0);
        }
    }

    /** The name of a {@code dnnl_cpu_isa_t} value, as oneDNN's documentation spells it. */
    static String isaName(int isa) {
        return switch (isa) {
            case 0x1 -> "sse41";
            case 0x3 -> "avx";
            case 0x7 -> "avx2";
            case 0xf -> "avx2_vnni";
            case 0x1f -> "avx2_vnni_2";
            case 0x27 -> "avx512_core";
            case 0x67 -> "avx512_core_vnni";
            case 0xe7 -> "avx512_core_bf16";
            case 0x1ef -> "avx10_1_512 (avx512_core_fp16)";
            case 0xfef -> "avx10_1_512_amx (avx512_core_amx)";
            case 0x1fef -> "avx10_1_512_amx_fp16";
            case 0x201ff -> "avx10_2_512";
            case 0x22fff -> "avx10_2_512_amx_2";
            default -> "isa 0x" + Integer.toHexString(isa);
        };
    }

    @FunctionalInterface
    private interface Call {
        Object run() throws Throwable;
    }

    private static Object call(Call c) {
        try {
            return c.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
