package dev.mpt.examples;

import dev.mpt.nn.data.Dataset;
import java.util.stream.IntStream;

/** The {@code --limit} cut of a dataset. */
final class Subsets {

    private Subsets() {
    }

    /** The first {@code n} samples of {@code d}, or {@code d} itself when it has no more. */
    static Dataset first(Dataset d, int n) {
        return n >= d.size() ? d : d.subset(IntStream.range(0, n).toArray());
    }
}
