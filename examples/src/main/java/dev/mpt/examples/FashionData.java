package dev.mpt.examples;

import dev.mpt.nn.data.FashionMnist;
import dev.mpt.nn.data.TrainTest;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --data} option of the Fashion-MNIST examples, and the loading it controls. */
public final class FashionData {

    @Option(names = "--data", paramLabel = "DIR",
            description = "directory of the Fashion-MNIST IDX files (default: ${DEFAULT-VALUE}, from "
                    + "'apt-get install dataset-fashion-mnist')",
            defaultValue = "/usr/share/datasets/fashion-mnist")
    Path dir = FashionMnist.DEFAULT_DIR;

    private TrainTest raw;
    private TrainTest standardized;
    private int cachedLimit;

    /**
     * The training and test splits, each cut to its first {@code limit} samples, with pixels in
     * {@code [0, 1]}; loaded once per command.
     */
    public TrainTest load(int limit) throws IOException {
        if (raw == null || cachedLimit != limit) {
            TrainTest all = FashionMnist.load(dir);
            raw = new TrainTest(Subsets.first(all.train(), limit), Subsets.first(all.test(), limit));
            standardized = null;
            cachedLimit = limit;
        }
        return raw;
    }

    /**
     * As {@link #load(int)}, standardized with the training split's pixel mean and standard
     * deviation (the classifiers' input).
     */
    public TrainTest loadStandardized(int limit) throws IOException {
        TrainTest t = load(limit);
        if (standardized == null) {
            standardized = t.standardize();
        }
        return standardized;
    }
}
