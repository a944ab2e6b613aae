package dev.mpt.core.kernel;

/**
 * The GEMM engine behind {@link Gemm}: packing, cache blocking and threads around a register-blocked
 * {@link GemmKernel}.
 *
 * <p>Loop nest (Goto / BLIS order), per column panel {@code jc} of at most {@link #NC} columns:
 * <pre>
 * pack op(B)[0:k, jc panel] once into Bp (shared, packed in parallel)       -- L3
 * parallel over tasks = (row range, column range) of the panel:
 *   for ic in the task's rows, step MC:
 *     for pc in 0..k, step KC:
 *       pack op(A)[ic block, pc block] into Ap (per thread, unless packed whole) -- L2
 *       for jr (NR columns):  for ir (MR rows):                              -- B sliver in L1
 *         kernel: W[ir, jr] (+)= Ap sliver * Bp sliver                     -- registers
 *     store W into C (beta, rounding to 16 bits)
 * </pre>
 * Every element's sum runs over {@code p = 0..k-1} in order in one FP32 accumulator (carried
 * across k-blocks through the FP32 workspace W), on one thread. The result therefore does not
 * depend on the thread count, on how rows and columns are split, or on MC/KC/NC.
 *
 * <p>A B used for many products (a recurrent weight) can be packed once, whole ({@link #packB},
 * {@link PackedB}); {@link #packed} then runs the same loop nest over it without the first step.
 *
 * <p>An op(A) read from transposed storage (a weight gradient {@code dY^T x}: column p of op(A) is
 * row p of dY) is packed whole, once, before the loop nest, by all threads side by side, when it
 * fits {@link #A_PANEL_FLOATS}: packing it per block read runs of a block's height from rows 4 KiB
 * apart (1024 FP32 features), which all fall into the same cache sets, where whole rows stream.
 */
final class BlockedGemm {

    /** The micro-kernel of this JVM, chosen once. */
    static final GemmKernel KERNEL = Simd.select(GemmKernel.class,
            "dev.mpt.core.kernel.VectorGemmKernel", ScalarGemmKernel::new);

    /**
     * Most depth of a k-block; {@link #kc} makes it shallower for wide slivers, and the blocks of one
     * problem are evened out ({@link #kBlock}) so no last block is a few terms deep. The FP32
     * workspace W is re-read and re-written once per k-block.
     */
    static final int KC = 256;
    /**
     * Bytes of one packed B sliver (kc x NR floats), held in L1 while a whole A block passes it: half
     * the L1d per core, the other half for the A sliver stream and the W tile. 24 KiB is half the
     * 48 KiB L1d of Zen 5 and gives kc = 128 for the 8 x 48 AVX-512 kernel; the 6 x 16 AVX2 kernel is
     * capped by {@link #KC} at 256 x 16 floats = 16 KiB, half the 32 KiB L1d of Zen 3.
     */
    static final int B_SLIVER_BYTES = 24 * 1024;
    /**
     * Rows of an A block (about; blocks are evened out to multiples of MR, and 120 is a multiple of
     * the 4, 6 and 8 rows of the kernels): MC x kc floats = 60 KiB on Zen 5 (kc = 128; L2 1 MiB per
     * core) and 120 KiB on Zen 3 (kc = 256; L2 512 KiB), at most a quarter of L2, so the block stays
     * there while every B sliver of the panel streams past it. The task's W block (MC x its columns)
     * shares L2 with it. 240 measured no better than 120 on Zen 5 (within the noise of a shared VM).
     */
    static final int MC = 120;
    /**
     * Floats added to each row of W so that its row stride is never a multiple of 4 KiB: the rows of
     * one W tile (read and written once per k-block) would otherwise fall into the same L1 set.
     */
    static final int W_ROW_PAD = 16;
    /** Most columns of one packed B panel (and of a task's FP32 workspace). */
    static final int NC = 2048;
    /** Most floats of one packed B panel ({@code k x nc}): 16 MiB, half the 32 MiB L3. */
    static final int B_PANEL_FLOATS = 1 << 22;
    /**
     * Most floats of an op(A) from transposed storage packed whole ({@code m x k}): 4 MiB, an eighth
     * of the 32 MiB L3 (the MLP's weight gradients need 1 MiB).
     */
    static final int A_PANEL_FLOATS = 1 << 20;
    /**
     * Problems with {@code m*n*k} at most this (8^3) run the plain loops of {@link #simple} on the
     * calling thread. A throwaway harness on the 2-core Zen 5 VM (square n, Vector API kernel) found
     * the blocked path on one thread faster from n = 6..10 up (2.2 vs 1.0 GFLOP/s at n = 16, 13 vs
     * 2.3 at n = 32): the simple loops do not vectorize, so they are for tiny and empty problems.
     */
    static final long SIMPLE_MAX_VOLUME = 8L * 8 * 8;
    /**
     * Problems with {@code m*n*k} below this (128^3, about 4 MFLOP, some 150 microseconds of one
     * core) run blocked on the calling thread only. The same harness, on a machine shared with other
     * builds, found 2 threads slower than 1 up to n = 160 (fork/join wake-ups are slow under load);
     * on a quiet machine the crossover is lower, so this is a compromise.
     */
    static final long PARALLEL_MIN_VOLUME = 128L * 128 * 128;

    /**
     * One thread's reusable pack buffers, so a training loop calling GEMM many times does not
     * allocate. Bounded by the blocking constants (the B panel by {@link #B_PANEL_FLOATS}, or
     * {@code k * NR} for deeper problems).
     */
    private static final ThreadScratch SCRATCH = new ThreadScratch(4);
    private static final int PACKED_B = 0;
    private static final int PACKED_A = 1;
    private static final int WORKSPACE = 2;
    private static final int WHOLE_A = 3;

    private BlockedGemm() {
    }

    /** Computes C = op(A) op(B) + beta C with the kernel of this JVM, choosing the path by size. */
    static void multiply(int m, int n, int k, GemmOperand a, GemmOperand b, GemmOutput c) {
        long volume = (long) m * n * k;
        if (volume <= SIMPLE_MAX_VOLUME) {
            simple(m, n, k, a, b, c);
        } else {
            blocked(KERNEL, volume < PARALLEL_MIN_VOLUME ? 1 : Parallel.threads(), m, n, k, a, b, c);
        }
    }

    /*
     * The small-problem path: the reference loops reordered i-p-j over a packed row of op(A) and a
     * packed row-major op(B); each element is still acc = fma(a, b, acc) over p in order, then the beta term.
     */
    static void simple(int m, int n, int k, GemmOperand a, GemmOperand b, GemmOutput c) {
        if (m == 0 || n == 0) {
            return;
        }
        float[] bp = SCRATCH.get(PACKED_B, k * n);
        b.transposed().pack(0, n, 0, k, n, bp, 0); // bp[p*n + j] = op(B)[p][j]
        float[] ar = SCRATCH.get(PACKED_A, k);
        float[] acc = SCRATCH.get(WORKSPACE, n);
        for (int i = 0; i < m; i++) {
            a.pack(i, 1, 0, k, 1, ar, 0);
            java.util.Arrays.fill(acc, 0, n, 0f);
            for (int p = 0; p < k; p++) {
                float x = ar[p];
                int bo = p * n;
                for (int j = 0; j < n; j++) {
                    acc[j] = Math.fma(x, bp[bo + j], acc[j]);
                }
            }
            c.store(acc, 0, n, i, 1, 0, n);
        }
    }

    /** The packed, blocked path with {@code kernel} on up to {@code threads} threads. */
    static void blocked(GemmKernel kernel, int threads, int m, int n, int k,
                        GemmOperand a, GemmOperand b, GemmOutput c) {
        if (m == 0 || n == 0) {
            return;
        }
        int nr = kernel.nr();
        int ncMax = Math.min(roundUp(n, nr), NC);
        if (k > 0) {
            ncMax = Math.min(ncMax, Math.max(nr, B_PANEL_FLOATS / k / nr * nr));
        }
        float[] bp = SCRATCH.get(PACKED_B, k * ncMax);
        float[] whole = packWholeA(kernel, threads, m, k, a);
        GemmOperand bt = b.transposed();
        for (int jc = 0; jc < n; jc += ncMax) {
            int nc = Math.min(ncMax, n - jc);
            int colSlivers = ceilDiv(nc, nr);
            // Pack op(B)[0:k, jc:jc+nc]: sliver s at bp[s*k*nr], element (p, j) at p*nr + j.
            int packTasks = Math.min(threads, colSlivers);
            int jcc = jc;
            Parallel.forEach(packTasks, t -> {
                int s0 = (int) ((long) colSlivers * t / packTasks);
                int s1 = (int) ((long) colSlivers * (t + 1) / packTasks);
                int cols = Math.min(nc, s1 * nr) - s0 * nr;
                bt.pack(jcc + s0 * nr, cols, 0, k, nr, bp, s0 * k * nr);
            });
            panel(kernel, threads, m, k, a, whole, bp, 0, c, jc, nc);
        }
    }

    /**
     * op(B) ({@code k x n}) packed whole for {@code kernel}: sliver {@code s} at {@code s*k*nr}, as
     * {@link #blocked} packs one panel, so that any run of whole slivers is a panel it can multiply.
     */
    static float[] packB(GemmKernel kernel, int k, int n, GemmOperand b) {
        int nr = kernel.nr();
        float[] bp = new float[ceilDiv(n, nr) * k * nr];
        b.transposed().pack(0, n, 0, k, nr, bp, 0);
        return bp;
    }

    /** Computes C = op(A) op(B) + beta C over a pre-packed B, on the threads its size earns. */
    static void multiply(int m, GemmOperand a, PackedB b, GemmOutput c) {
        long volume = (long) m * b.n * b.k;
        packed(volume < PARALLEL_MIN_VOLUME ? 1 : Parallel.threads(), m, a, b, c);
    }

    /**
     * {@link #blocked} over a pre-packed B with the kernel it was packed for: the same panels of at
     * most {@link #NC} columns (rounded down to whole slivers), read from {@code b} instead of packed.
     * Same sums in the same order, so the same bits.
     */
    static void packed(int threads, int m, GemmOperand a, PackedB b, GemmOutput c) {
        int n = b.n;
        int k = b.k;
        if (m == 0 || n == 0) {
            return;
        }
        GemmKernel kernel = b.kernel;
        int nr = kernel.nr();
        int ncMax = Math.min(roundUp(n, nr), Math.max(nr, NC / nr * nr));
        float[] whole = packWholeA(kernel, threads, m, k, a);
        for (int jc = 0; jc < n; jc += ncMax) {
            panel(kernel, threads, m, k, a, whole, b.panel, jc * k, c, jc, Math.min(ncMax, n - jc));
        }
    }

    /**
     * C's columns {@code [jc, jc+nc)} from the packed panel of op(B) at {@code bp[bpOff]} (sliver
     * {@code s} of the panel at {@code bpOff + s*k*nr}), split into tasks by {@link Grid}.
     */
    private static void panel(GemmKernel kernel, int threads, int m, int k, GemmOperand a, float[] whole,
                              float[] bp, int bpOff, GemmOutput c, int jc, int nc) {
        int mr = kernel.mr();
        int nr = kernel.nr();
        int colSlivers = ceilDiv(nc, nr);
        Grid grid = Grid.of(threads, ceilDiv(m, mr), colSlivers);
        Parallel.forEach(grid.rowTasks * grid.colTasks, t -> {
            int rt = t / grid.colTasks;
            int ct = t % grid.colTasks;
            int rs0 = (int) ((long) grid.rowSlivers * rt / grid.rowTasks);
            int rs1 = (int) ((long) grid.rowSlivers * (rt + 1) / grid.rowTasks);
            int cs0 = (int) ((long) colSlivers * ct / grid.colTasks);
            int cs1 = (int) ((long) colSlivers * (ct + 1) / grid.colTasks);
            task(kernel, m, k, a, whole, bp, bpOff, c, rs0 * mr, Math.min(m, rs1 * mr), cs0, cs1,
                    jc, Math.min(nc, cs1 * nr) - cs0 * nr);
        });
    }

    /**
     * op(A) packed whole, when it is read from transposed storage and fits {@link #A_PANEL_FLOATS},
     * else null: k-block {@code pc} (of depth {@code kc}, as {@link #kBlock} splits k) at
     * {@code pc * roundUp(m, mr)}, laid out as {@code a.pack(0, m, pc, kc, mr, ...)}, so the block of
     * rows from {@code ic} (a multiple of mr) starts {@code ic * kc} further. Threads pack ranges of
     * columns of each block (whole storage rows) side by side.
     */
    private static float[] packWholeA(GemmKernel kernel, int threads, int m, int k, GemmOperand a) {
        int mPad = roundUp(m, kernel.mr());
        if (!a.transposedStorage() || k == 0 || (long) mPad * k > A_PANEL_FLOATS) {
            return null;
        }
        float[] whole = SCRATCH.get(WHOLE_A, mPad * k);
        int kcMax = kBlock(kernel, k);
        int tasks = Math.min(threads, kcMax);
        Parallel.forEach(tasks, t -> {
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                int p0 = (int) ((long) kc * t / tasks);
                int p1 = (int) ((long) kc * (t + 1) / tasks);
                a.packColumns(0, m, pc, kc, p0, p1, kernel.mr(), whole, pc * mPad);
            }
        });
        return whole;
    }

    /**
     * Rows {@code [i0, i1)} of C times B slivers {@code [cs0, cs1)} of the packed panel at
     * {@code bp[bpOff]}, which starts at column {@code jc}; {@code cols} valid columns. op(A) comes
     * from {@code whole} when it was packed whole ({@link #packWholeA}), else block by block.
     */
    private static void task(GemmKernel kernel, int m, int k, GemmOperand a, float[] whole, float[] bp, int bpOff,
                             GemmOutput c, int i0, int i1, int cs0, int cs1, int jc, int cols) {
        int mr = kernel.mr();
        int nr = kernel.nr();
        int kcMax = kBlock(kernel, k);
        int ldw = (cs1 - cs0) * nr + W_ROW_PAD;
        // Split the rows into blocks of at most MC, as even as the register block allows, so the
        // last block does not end up with a few rows that reuse each B sliver only briefly.
        int blocks = ceilDiv(i1 - i0, MC);
        int mcMax = roundUp(ceilDiv(i1 - i0, blocks), mr);
        float[] w = SCRATCH.get(WORKSPACE, mcMax * ldw);
        float[] ap = whole != null ? whole : SCRATCH.get(PACKED_A, mcMax * Math.min(kcMax, k));
        int mPad = roundUp(m, mr);
        for (int ic = i0; ic < i1; ic += mcMax) {
            int mc = Math.min(mcMax, i1 - ic);
            int rowSlivers = ceilDiv(mc, mr);
            if (k == 0) {
                java.util.Arrays.fill(w, 0, rowSlivers * mr * ldw, 0f);
            }
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                int ao = 0;
                if (whole == null) {
                    a.pack(ic, mc, pc, kc, mr, ap, 0);
                } else {
                    ao = pc * mPad + ic * kc;
                }
                boolean accumulate = pc > 0;
                for (int js = cs0; js < cs1; js++) {
                    int bo = bpOff + js * k * nr + pc * nr;
                    int wo = (js - cs0) * nr;
                    for (int is = 0; is < rowSlivers; is++) {
                        kernel.multiply(kc, ap, ao + is * kc * mr, bp, bo, w, wo + is * mr * ldw, ldw, accumulate);
                    }
                }
            }
            c.store(w, 0, ldw, ic, mc, jc + cs0 * nr, cols);
        }
    }

    /** How one column panel's output is split into tasks. */
    private record Grid(int rowSlivers, int rowTasks, int colTasks) {
        /**
         * Up to two tasks per thread (so a thread slowed by another process does not hold the others
         * up), split so the slowest thread has as few register tiles as possible: with
         * {@code T = rowTasks * colTasks} tasks the time is about {@code ceil(T / threads)} times the
         * tiles of the largest task, {@code ceil(rowSlivers / rowTasks) * ceil(colSlivers / colTasks)}.
         * Ties go to more tasks, then to fewer column tasks (each packs its own copy of the A block).
         * So a product with few rows splits its columns (8 rows: four column tasks), and the LSTM's
         * 32 rows, four slivers of 8, make four row tasks of equal size.
         */
        static Grid of(int threads, int rowSlivers, int colSlivers) {
            if (threads == 1) {
                return new Grid(rowSlivers, 1, 1);
            }
            int want = 2 * threads;
            int bestRows = 1;
            int bestCols = 1;
            long bestCost = Long.MAX_VALUE;
            for (int rt = 1; rt <= Math.min(rowSlivers, want); rt++) {
                for (int ct = 1; ct <= Math.min(colSlivers, want / rt); ct++) {
                    long cost = (long) ceilDiv(rt * ct, threads) * ceilDiv(rowSlivers, rt) * ceilDiv(colSlivers, ct);
                    int tasks = rt * ct;
                    if (cost < bestCost || cost == bestCost && (tasks > bestRows * bestCols
                            || tasks == bestRows * bestCols && ct < bestCols)) {
                        bestCost = cost;
                        bestRows = rt;
                        bestCols = ct;
                    }
                }
            }
            return new Grid(rowSlivers, bestRows, bestCols);
        }
    }

    /** The deepest k-block for {@code kernel}: {@link #KC}, or less so its B sliver fits {@link #B_SLIVER_BYTES}. */
    static int kc(GemmKernel kernel) {
        return Math.min(KC, B_SLIVER_BYTES / (Float.BYTES * kernel.nr()));
    }

    /**
     * The k-block depth for a problem of depth {@code k}: as few blocks as {@link #kc} allows, of
     * (nearly) equal depth, so that k = 784 runs as 7 x 112 rather than 6 x 128 + 16 (each block
     * costs a pass over W). At least 1.
     */
    static int kBlock(GemmKernel kernel, int k) {
        int max = kc(kernel);
        return k <= max ? Math.max(1, k) : ceilDiv(k, ceilDiv(k, max));
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int y) {
        return ceilDiv(x, y) * y;
    }
}
