package dev.mpt.optim.parallel;

/**
 * A collective operation failed: a peer died, hung past the deadline, broke the protocol or could
 * not authenticate. Every rank of the job sees one; {@link #rank()} names the rank at fault where
 * it is known.
 */
public final class CollectiveException extends RuntimeException {

    private final int rank;

    /**
     * @param rank    the rank at fault, or -1 when unknown
     * @param message what happened and, where it helps, what to do
     * @param cause   the underlying error, or null
     */
    public CollectiveException(int rank, String message, Throwable cause) {
        super(message, cause);
        this.rank = rank;
    }

    /** The rank at fault, or -1 when unknown. */
    public int rank() {
        return rank;
    }
}
