package dev.mpt.core.kernel.backend;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * oneDNN matmul primitives, created once per {@link Key} and kept: creating one JIT-compiles its
 * kernel (milliseconds), executing it costs microseconds. Each is made with a user-managed
 * scratchpad, so one primitive may run on several threads at once, each with its own scratch.
 *
 * <p>Memory layouts are expressed with strides, so transposed and padded operands need no copy:
 * {@code A} (m x k) has strides {@code (lda, 1)}, or {@code (1, lda)} when transposed; likewise
 * {@code B}; the staged {@code C} is dense, {@code (n, 1)}. A non-zero {@code beta} is a sum
 * post-op, {@code C = A B + beta C}, computed in FP32 before C is rounded.
 */
final class MatmulPrimitives {

    private static final Logger LOG = LoggerFactory.getLogger(MatmulPrimitives.class);

    /**
     * Primitives kept at most; a shape past this is created, run and destroyed. Training uses a
     * few dozen shapes; the bound only stops a stream of distinct shapes from growing without end.
     */
    static final int MAX_CACHED = 512;

    /** What a primitive depends on. Types are {@code dnnl_data_type_t} values. */
    record Key(int m, int n, int k, boolean transA, boolean transB, int lda, int ldb, int src, int dst,
               float beta, int threads) {
    }

    /**
     * A created primitive and its memory descriptors, or a declined one ({@code primitive == null})
     * with oneDNN's status and the reason.
     */
    record Entry(MemorySegment primitive, MemorySegment pd, MemorySegment mdA, MemorySegment mdB,
                 MemorySegment mdC, MemorySegment mdScratch, long scratchBytes, String impl, int status) {

        boolean usable() {
            return primitive != null;
        }

        static Entry declined(int status, String why) {
            return new Entry(null, null, null, null, null, null, 0, why, status);
        }
    }

    /** Makes the entry for a key; replaced in tests to simulate oneDNN declining a primitive. */
    @FunctionalInterface
    interface Factory {
        Entry create(Key key);
    }

    private final ConcurrentHashMap<Key, Entry> cache = new ConcurrentHashMap<>();
    private final Factory factory;
    private final Dnnl dnnl;

    /** Primitives created through {@code dnnl} on {@code engine}. */
    MatmulPrimitives(Dnnl dnnl, MemorySegment engine) {
        this.dnnl = dnnl;
        this.factory = key -> create(dnnl, engine, key);
    }

    /** Primitives made by {@code factory} (tests). */
    MatmulPrimitives(Factory factory) {
        this.dnnl = null;
        this.factory = factory;
    }

    /**
     * The cached entry for {@code key}, creating it if needed. {@code transientOut[0]} is set to
     * true when the entry is not cached (the cache is full) and must be {@link #release}d after use.
     */
    Entry get(Key key, boolean[] transientOut) {
        Entry e = cache.get(key);
        if (e != null) {
            transientOut[0] = false;
            return e;
        }
        if (cache.size() >= MAX_CACHED) {
            transientOut[0] = true;
            return factory.create(key);
        }
        transientOut[0] = false;
        return cache.computeIfAbsent(key, factory::create);
    }

    /** Destroys an entry that was not cached. */
    void release(Entry e) {
        if (e.usable() && dnnl != null) {
            destroy(dnnl, e);
        }
    }

    private static void destroy(Dnnl dnnl, Entry e) {
        dnnl.primitiveDestroy(e.primitive());
        dnnl.primitiveDescDestroy(e.pd());
        dnnl.memoryDescDestroy(e.mdA());
        dnnl.memoryDescDestroy(e.mdB());
        dnnl.memoryDescDestroy(e.mdC());
    }

    private static Entry create(Dnnl dnnl, MemorySegment engine, Key key) {
        dnnl.ompSetNumThreads(key.threads());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(ADDRESS);
            MemorySegment mdA = md(dnnl, arena, key.m(), key.k(), key.src(), key.transA(), key.lda());
            MemorySegment mdB = md(dnnl, arena, key.k(), key.n(), key.src(), key.transB(), key.ldb());
            MemorySegment mdC = md(dnnl, arena, key.m(), key.n(), key.dst(), false, key.n());
            check(dnnl.attrCreate(slot), "dnnl_primitive_attr_create");
            MemorySegment attr = Dnnl.out(slot);
            MemorySegment postOps = MemorySegment.NULL;
            try {
                check(dnnl.attrSetScratchpadMode(attr, Dnnl.SCRATCHPAD_MODE_USER), "set_scratchpad_mode");
                if (key.beta() != 0f) {
                    check(dnnl.postOpsCreate(slot), "dnnl_post_ops_create");
                    postOps = Dnnl.out(slot);
                    check(dnnl.postOpsAppendSum(postOps, key.beta(), 0, key.dst()), "dnnl_post_ops_append_sum");
                    check(dnnl.attrSetPostOps(attr, postOps), "dnnl_primitive_attr_set_post_ops");
                }
                int status = dnnl.matmulPrimitiveDescCreate(slot, engine, mdA, mdB, MemorySegment.NULL, mdC, attr);
                if (status != Dnnl.SUCCESS) {
                    destroyMds(dnnl, mdA, mdB, mdC);
                    return Entry.declined(status, "dnnl_matmul_primitive_desc_create returned status " + status);
                }
                MemorySegment pd = Dnnl.out(slot);
                String impl = dnnl.implInfo(pd);
                if (impl.startsWith("ref")) {
                    // oneDNN's reference implementations are plain loops, slower than mpt's kernels
                    dnnl.primitiveDescDestroy(pd);
                    destroyMds(dnnl, mdA, mdB, mdC);
                    return Entry.declined(Dnnl.UNIMPLEMENTED, "only oneDNN's reference implementation (" + impl
                            + ") serves it on this CPU");
                }
                MemorySegment mdScratch = dnnl.primitiveDescQueryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD, 0);
                long scratchBytes = mdScratch.equals(MemorySegment.NULL) ? 0 : dnnl.memoryDescGetSize(mdScratch);
                int made = dnnl.primitiveCreate(slot, pd);
                if (made != Dnnl.SUCCESS) {
                    dnnl.primitiveDescDestroy(pd);
                    destroyMds(dnnl, mdA, mdB, mdC);
                    return Entry.declined(made, "dnnl_primitive_create returned status " + made);
                }
                LOG.debug("oneDNN matmul {}: {}", key, impl);
                return new Entry(Dnnl.out(slot), pd, mdA, mdB, mdC, mdScratch, scratchBytes, impl, Dnnl.SUCCESS);
            } finally {
                if (!postOps.equals(MemorySegment.NULL)) {
                    dnnl.postOpsDestroy(postOps);
                }
                dnnl.attrDestroy(attr);
            }
        }
    }

    /** A rows x cols descriptor of {@code type} with leading dimension {@code ld}, column-major when {@code trans}. */
    private static MemorySegment md(Dnnl dnnl, Arena arena, int rows, int cols, int type, boolean trans, int ld) {
        MemorySegment dims = arena.allocateFrom(JAVA_LONG, rows, cols);
        MemorySegment strides = trans ? arena.allocateFrom(JAVA_LONG, 1, ld) : arena.allocateFrom(JAVA_LONG, ld, 1);
        MemorySegment slot = arena.allocate(ADDRESS);
        check(dnnl.memoryDescCreateWithStrides(slot, 2, dims, type, strides), "dnnl_memory_desc_create_with_strides");
        return Dnnl.out(slot);
    }

    private static void destroyMds(Dnnl dnnl, MemorySegment... mds) {
        for (MemorySegment md : mds) {
            dnnl.memoryDescDestroy(md);
        }
    }

    private static void check(int status, String what) {
        if (status != Dnnl.SUCCESS) {
            throw new IllegalStateException(what + " returned status " + status);
        }
    }
}
