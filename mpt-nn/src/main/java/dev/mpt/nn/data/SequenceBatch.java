package dev.mpt.nn.data;

import java.util.Objects;

/**
 * A batch of character sequences for a language model: {@code inputs[b * seqLen + t]} is the id of
 * character {@code t} of row {@code b}, and {@code targets[b * seqLen + t]} the id of the character
 * that follows it in the text.
 *
 * @param inputs    {@code batchSize * seqLen} ids, row-major {@code [batchSize, seqLen]}
 * @param targets   {@code batchSize * seqLen} next-character ids, same layout
 * @param batchSize number of rows
 * @param seqLen    characters per row
 */
public record SequenceBatch(int[] inputs, int[] targets, int batchSize, int seqLen) {

    /** Validates the lengths. */
    public SequenceBatch {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(targets, "targets");
        if (batchSize < 1 || seqLen < 1) {
            throw new IllegalArgumentException("SequenceBatch: batchSize and seqLen must be >= 1, got " + batchSize
                    + " and " + seqLen);
        }
        if (inputs.length != (long) batchSize * seqLen || targets.length != inputs.length) {
            throw new IllegalArgumentException("SequenceBatch: inputs.length " + inputs.length + " and targets.length "
                    + targets.length + " must both be batchSize * seqLen = " + (long) batchSize * seqLen);
        }
    }

    /** {@code [batchSize, seqLen]}. */
    public int[] shape() {
        return new int[] {batchSize, seqLen};
    }
}
