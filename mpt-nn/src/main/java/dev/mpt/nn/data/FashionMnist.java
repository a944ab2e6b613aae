package dev.mpt.nn.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28x28 grey images of 10 kinds of clothing,
 * 60,000 for training and 10,000 for testing, read from the four IDX files
 * {@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]},
 * {@code t10k-images-idx3-ubyte[.gz]} and {@code t10k-labels-idx1-ubyte[.gz]}.
 *
 * <p>Samples have shape {@code [1, 28, 28]}; pixels are scaled to {@code [0, 1]}.
 * On Debian and Ubuntu {@code apt-get install dataset-fashion-mnist} puts the files in
 * {@link #DEFAULT_DIR}.
 */
public final class FashionMnist {

    /** Where the Debian package {@code dataset-fashion-mnist} installs the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** The class names, indexed by label. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    static final String HOW_TO_GET = "install it with: apt-get install dataset-fashion-mnist, or pass the "
            + "directory holding train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
            + "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] "
            + "(from https://github.com/zalandoresearch/fashion-mnist)";

    private FashionMnist() {
    }

    /** Loads the training and test splits from {@link #DEFAULT_DIR}. */
    public static TrainTest load() throws IOException {
        return load(DEFAULT_DIR);
    }

    /**
     * Loads the training and test splits from {@code dir}.
     *
     * @throws java.nio.file.NoSuchFileException when the directory or a file is missing; the message
     *                                           says how to get the data
     * @throws IOException                       when a file is corrupt or not Fashion-MNIST: images other
     *                                           than 28x28, no samples, image and label counts that
     *                                           differ, labels outside 0..9 (the message names the file);
     *                                           sizes are checked from the headers before data is read
     */
    public static TrainTest load(Path dir) throws IOException {
        return IdxDatasets.load(dir, "Fashion-MNIST", HOW_TO_GET, 28, 28, CLASS_NAMES.size());
    }
}
