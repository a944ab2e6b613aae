package dev.mpt.core;

/**
 * A scope in which tensor operations are not recorded for autograd, for evaluation and for
 * optimizer updates:
 *
 * <pre>{@code
 * try (NoGrad _ = NoGrad.enter()) {      // "_": the scope variable is unused
 *     Tensor logits = model.forward(x);   // no graph is built
 * }
 * }</pre>
 *
 * <p>The scope is confined to the thread that entered it (other threads keep recording) and
 * scopes nest. Scopes must be closed in the reverse order of entering, on the same thread.
 */
public final class NoGrad implements AutoCloseable {

    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private final Thread owner;
    private final int level;
    private boolean closed;

    private NoGrad(Thread owner, int level) {
        this.owner = owner;
        this.level = level;
    }

    /** Enters a no-grad scope on the calling thread; close it (try-with-resources) to leave. */
    public static NoGrad enter() {
        int[] depth = DEPTH.get();
        depth[0]++;
        return new NoGrad(Thread.currentThread(), depth[0]);
    }

    /** Whether operations on the calling thread are recorded for autograd now. */
    public static boolean isGradEnabled() {
        return DEPTH.get()[0] == 0;
    }

    /**
     * Leaves this scope. Closing twice is a no-op.
     *
     * @throws IllegalStateException if called from another thread, or while a scope entered
     *     after this one is still open
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("NoGrad.close: scope entered on thread '" + owner.getName()
                    + "' closed on thread '" + Thread.currentThread().getName() + "'; close it where it was entered");
        }
        int[] depth = DEPTH.get();
        if (depth[0] != level) {
            throw new IllegalStateException("NoGrad.close: scopes must close in reverse order of entering (closing level "
                    + level + " while level " + depth[0] + " is open)");
        }
        depth[0]--;
        closed = true;
    }
}
