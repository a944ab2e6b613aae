package dev.mpt.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    @TempDir
    Path dir;

    /** Writes the four files the Debian package installs, with small random contents. */
    private static void writeSplits(Path dir, int nTrain, int nTest, boolean gzip) throws IOException {
        String suffix = gzip ? ".gz" : "";
        SplittableRandom rng = new SplittableRandom(11);
        for (String prefix : new String[] {"train", "t10k"}) {
            int n = prefix.equals("train") ? nTrain : nTest;
            byte[] px = new byte[n * 28 * 28];
            rng.nextBytes(px);
            byte[] y = new byte[n];
            for (int i = 0; i < n; i++) {
                y[i] = (byte) rng.nextInt(10);
            }
            Idx.write(dir.resolve(prefix + "-images-idx3-ubyte" + suffix),
                    IdxArray.ofUnsignedBytes(new int[] {n, 28, 28}, px), gzip);
            Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte" + suffix),
                    IdxArray.ofUnsignedBytes(new int[] {n}, y), gzip);
        }
    }

    @Test
    void loadsFilesShapedLikeTheDebianPackage() throws IOException {
        writeSplits(dir, 20, 7, true);
        TrainTest data = FashionMnist.load(dir);
        assertEquals(20, data.train().size());
        assertEquals(7, data.test().size());
        assertArrayEquals(new int[] {1, 28, 28}, data.train().featureShape());
        assertEquals(10, data.train().numClasses());
        IdxArray images = Idx.read(dir.resolve("train-images-idx3-ubyte.gz"));
        IdxArray labels = Idx.read(dir.resolve("train-labels-idx1-ubyte.gz"));
        byte[] px = images.data();
        for (int i = 0; i < 20; i++) {
            assertEquals(labels.data()[i], data.train().label(i));
            float[] f = data.train().features(i);
            for (int j = 0; j < 784; j++) {
                assertEquals((float) ((px[i * 784 + j] & 0xff) / 255.0), f[j]);
            }
        }
    }

    @Test
    void acceptsUncompressedFiles() throws IOException {
        writeSplits(dir, 5, 3, false);
        assertEquals(5, FashionMnist.load(dir).train().size());
        assertEquals(3, Mnist.load(dir).test().size());
    }

    @Test
    void missingDirectorySaysHowToGetTheData() {
        Path missing = dir.resolve("nowhere");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FashionMnist.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte[.gz]"), e.getMessage());
        NoSuchFileException m = assertThrows(NoSuchFileException.class, () -> Mnist.load(missing));
        assertTrue(m.getMessage().contains("train-images-idx3-ubyte[.gz]"), m.getMessage());
    }

    @Test
    void missingFileIsNamed() throws IOException {
        writeSplits(dir, 4, 2, true);
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte.gz"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte[.gz] not found in " + dir), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void corruptFileIsNamed() throws IOException {
        writeSplits(dir, 4, 2, true);
        Path f = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 20));
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void labelsFileInPlaceOfImagesIsRejected() throws IOException {
        writeSplits(dir, 4, 2, true);
        Files.copy(dir.resolve("train-labels-idx1-ubyte.gz"), dir.resolve("train-images-idx3-ubyte.gz"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("expected 0x00000803"), e.getMessage());
    }

    @Test
    void imageAndLabelCountMismatchIsRejected() throws IOException {
        writeSplits(dir, 4, 2, true);
        Idx.write(dir.resolve("train-labels-idx1-ubyte.gz"), IdxArray.ofUnsignedBytes(new int[] {3}, new byte[3]), true);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("holds 4 images but") && e.getMessage().contains("holds 3 labels"),
                e.getMessage());
    }

    @Test
    void labelOutOfRangeIsRejected() throws IOException {
        writeSplits(dir, 4, 2, true);
        Idx.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), IdxArray.ofUnsignedBytes(new int[] {2}, new byte[] {1, 10}),
                true);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("label 10 of sample 1"), e.getMessage());
    }

    @Test
    void emptySplitIsRejected() throws IOException {
        writeSplits(dir, 0, 2, false);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("train-images-idx3-ubyte").toString())
                && e.getMessage().contains("no images"), e.getMessage());
        writeSplits(dir, 3, 0, true);
        e = assertThrows(IOException.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte.gz") && e.getMessage().contains("no images"),
                e.getMessage());
    }

    @Test
    void imagesOfAnotherSizeAreRejected() throws IOException {
        writeSplits(dir, 3, 2, true);
        Path f = dir.resolve("train-images-idx3-ubyte.gz");
        Idx.write(f, IdxArray.ofUnsignedBytes(new int[] {3, 28, 27}, new byte[3 * 28 * 27]), true);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("28x27")
                && e.getMessage().contains("28x28"), e.getMessage());
        Idx.write(f, IdxArray.ofUnsignedBytes(new int[] {3, 28, 28, 1}, new byte[3 * 28 * 28]), true);
        e = assertThrows(IOException.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void aHugeImageIsRejectedFromTheHeaderBeforeAnyDataIsRead() throws IOException {
        writeSplits(dir, 1, 1, false);
        Path f = dir.resolve("train-images-idx3-ubyte");
        // one 46340 x 46340 image: 2.1 GB of pixels, a hole in a sparse file that costs no disk
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(0);
            raf.writeInt(Idx.MAGIC_IMAGES);
            raf.writeInt(1);
            raf.writeInt(46340);
            raf.writeInt(46340);
            raf.setLength(16 + 46340L * 46340);
        }
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("46340x46340")
                && e.getMessage().contains("28x28"), e.getMessage());
    }

    @Test
    void loadsTheInstalledDatasetWhenPresent() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(FashionMnist.DEFAULT_DIR.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        TrainTest data = FashionMnist.load();
        assertEquals(60_000, data.train().size());
        assertEquals(10_000, data.test().size());
        assertArrayEquals(new int[] {1, 28, 28}, data.test().featureShape());
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
        int[] train = data.train().classCounts();
        int[] test = data.test().classCounts();
        for (int c = 0; c < 10; c++) {
            assertEquals(6_000, train[c], "class " + c);
            assertEquals(1_000, test[c], "class " + c);
        }
    }
}
