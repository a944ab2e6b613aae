package dev.mpt.nn.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads the four IDX files of an MNIST-style dataset (images {@code [n, rows, cols]} and labels). */
final class IdxDatasets {

    private static final Logger LOG = LoggerFactory.getLogger(IdxDatasets.class);

    private IdxDatasets() {
    }

    /**
     * Loads {@code train-*} and {@code t10k-*} images and labels from {@code dir}, preferring the
     * {@code .gz} file when both exist; pixels are scaled to {@code [0, 1]} by {@code v / 255}.
     *
     * @param name    the dataset's name for messages
     * @param howToGet what the user should do to get the files, appended to every error
     */
    static TrainTest load(Path dir, String name, String howToGet, int numClasses) throws IOException {
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null,
                    name + " directory " + dir + " does not exist or is not a directory; " + howToGet);
        }
        Dataset train = split(dir, "train", name, howToGet, numClasses);
        Dataset test = split(dir, "t10k", name, howToGet, numClasses);
        LOG.debug("Loaded {} from {}: {} training and {} test samples of shape {}", name, dir, train.size(),
                test.size(), Arrays.toString(train.featureShape()));
        return new TrainTest(train, test);
    }

    private static Dataset split(Path dir, String prefix, String name, String howToGet, int numClasses)
            throws IOException {
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte", name, howToGet);
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte", name, howToGet);
        IdxArray images;
        IdxArray labels;
        try {
            images = Idx.read(imagesFile, Idx.MAGIC_IMAGES);
            labels = Idx.read(labelsFile, Idx.MAGIC_LABELS);
        } catch (IOException e) {
            throw new IOException(name + ": " + e.getMessage() + "; the file is corrupt, " + howToGet, e);
        }
        if (images.dim(0) != labels.dim(0)) {
            throw new IOException(name + ": " + imagesFile + " holds " + images.dim(0) + " images but " + labelsFile
                    + " holds " + labels.dim(0) + " labels; " + howToGet);
        }
        int[] y = labels.toInts();
        for (int i = 0; i < y.length; i++) {
            if (y[i] >= numClasses) {
                throw new IOException(name + ": label " + y[i] + " of sample " + i + " in " + labelsFile
                        + " is outside [0, " + numClasses + "); " + howToGet);
            }
        }
        int[] featureShape = {1, images.dim(1), images.dim(2)};
        if (images.dim(1) == 0 || images.dim(2) == 0) {
            throw new IOException(name + ": " + imagesFile + " has empty images " + Arrays.toString(images.shape()));
        }
        return Dataset.of(images.toFloats(1.0 / 255), y, featureShape, numClasses);
    }

    private static Path find(Path dir, String baseName, String name, String howToGet) throws NoSuchFileException {
        Path gz = dir.resolve(baseName + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        Path raw = dir.resolve(baseName);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        throw new NoSuchFileException(gz.toString(), null,
                name + " file " + baseName + "[.gz] not found in " + dir + "; " + howToGet);
    }
}
