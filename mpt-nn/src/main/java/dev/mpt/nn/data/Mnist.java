package dev.mpt.nn.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * MNIST (LeCun, Cortes and Burges): 28x28 grey images of handwritten digits, 60,000 for training
 * and 10,000 for testing, read from the four IDX files {@code train-images-idx3-ubyte[.gz]},
 * {@code train-labels-idx1-ubyte[.gz]}, {@code t10k-images-idx3-ubyte[.gz]} and
 * {@code t10k-labels-idx1-ubyte[.gz]}. Samples have shape {@code [1, 28, 28]}; pixels are scaled to
 * {@code [0, 1]}.
 */
public final class Mnist {

    static final String HOW_TO_GET = "pass the directory holding train-images-idx3-ubyte[.gz], "
            + "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] "
            + "(the MNIST files of https://yann.lecun.com/exdb/mnist/ or a mirror)";

    private Mnist() {
    }

    /**
     * Loads the training and test splits from {@code dir}.
     *
     * @throws java.nio.file.NoSuchFileException when the directory or a file is missing
     * @throws IOException                       when a file is corrupt or not MNIST: images other than
     *                                           28x28, no samples, image and label counts that differ,
     *                                           labels outside 0..9 (the message names the file); sizes
     *                                           are checked from the headers before data is read
     */
    public static TrainTest load(Path dir) throws IOException {
        return IdxDatasets.load(dir, "MNIST", HOW_TO_GET, 28, 28, 10);
    }
}
