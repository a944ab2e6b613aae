package dev.mpt.nn.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the four IDX files of an MNIST-style dataset (images {@code [n, rows, cols]} and labels).
 * Both headers are checked first (image size, at least one sample, equal counts), so a file that
 * is not of the dataset is rejected before its data is read; then every label is checked.
 */
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
    static TrainTest load(Path dir, String name, String howToGet, int rows, int cols, int numClasses)
            throws IOException {
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null,
                    name + " directory " + dir + " does not exist or is not a directory; " + howToGet);
        }
        Dataset train = split(dir, "train", name, howToGet, rows, cols, numClasses);
        Dataset test = split(dir, "t10k", name, howToGet, rows, cols, numClasses);
        LOG.debug("Loaded {} from {}: {} training and {} test samples of shape {}", name, dir, train.size(),
                test.size(), Arrays.toString(train.featureShape()));
        return new TrainTest(train, test);
    }

    private static Dataset split(Path dir, String prefix, String name, String howToGet, int rows, int cols,
            int numClasses) throws IOException {
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte", name, howToGet);
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte", name, howToGet);
        IdxArray images;
        IdxArray labels;
        try {
            int[] imageShape = Idx.readShape(imagesFile, Idx.MAGIC_IMAGES);
            int[] labelShape = Idx.readShape(labelsFile, Idx.MAGIC_LABELS);
            if (imageShape[1] != rows || imageShape[2] != cols) {
                throw new IOException(imagesFile + " holds " + imageShape[1] + "x" + imageShape[2] + " images, "
                        + name + " has " + rows + "x" + cols);
            }
            if (imageShape[0] == 0) {
                throw new IOException(imagesFile + " holds no images");
            }
            if (imageShape[0] != labelShape[0]) {
                throw new IOException(imagesFile + " holds " + imageShape[0] + " images but " + labelsFile + " holds "
                        + labelShape[0] + " labels");
            }
            images = Idx.read(imagesFile, Idx.MAGIC_IMAGES);
            labels = Idx.read(labelsFile, Idx.MAGIC_LABELS);
        } catch (IOException e) {
            throw new IOException(name + ": " + e.getMessage() + "; the file is not " + name + " or is corrupt, "
                    + howToGet, e);
        }
        int[] y = labels.toInts();
        for (int i = 0; i < y.length; i++) {
            if (y[i] >= numClasses) {
                throw new IOException(name + ": label " + y[i] + " of sample " + i + " in " + labelsFile
                        + " is outside [0, " + numClasses + "); " + howToGet);
            }
        }
        return Dataset.of(images.toFloats(1.0 / 255), y, new int[] {1, rows, cols}, numClasses);
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
