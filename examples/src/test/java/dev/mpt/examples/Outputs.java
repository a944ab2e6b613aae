package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.nn.data.Idx;
import dev.mpt.nn.data.IdxArray;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/** Test helpers: synthetic Fashion-MNIST files and checks of the files a run writes. */
final class Outputs {

    private Outputs() {
    }

    /**
     * Writes {@code train} and {@code test} synthetic 28x28 images with labels 0..9 in the four
     * Fashion-MNIST IDX files: each class is a bright horizontal band at its own height plus noise,
     * so a model can learn them.
     */
    static Path syntheticFashion(Path dir, int train, int test, long seed) throws IOException {
        var rng = new SplittableRandom(seed);
        write(dir, "train", train, rng);
        write(dir, "t10k", test, rng);
        return dir;
    }

    private static void write(Path dir, String prefix, int n, SplittableRandom rng) throws IOException {
        byte[] pixels = new byte[n * 784];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int label = i % 10;
            labels[i] = (byte) label;
            for (int p = 0; p < 784; p++) {
                int row = p / 28;
                int v = rng.nextInt(60) + (row / 3 == label ? 180 : 0);
                pixels[i * 784 + p] = (byte) Math.min(255, v);
            }
        }
        Idx.write(dir.resolve(prefix + "-images-idx3-ubyte"), IdxArray.ofUnsignedBytes(new int[] {n, 28, 28}, pixels),
                false);
        Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte"), IdxArray.ofUnsignedBytes(new int[] {n}, labels), false);
    }

    /** The rows of a CSV file (header first), each split at commas; checks a consistent width. */
    static List<String[]> csv(Path file) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            rows.add(line.split(",", -1));
        }
        assertTrue(rows.size() >= 2, () -> file + " has no data rows");
        for (String[] r : rows) {
            assertEquals(rows.getFirst().length, r.length, () -> file + ": row " + Arrays.toString(r));
        }
        return rows;
    }

    /** The values of column {@code name} of a CSV file, as doubles. */
    static double[] column(Path file, String name) throws IOException {
        List<String[]> rows = csv(file);
        int c = Arrays.asList(rows.getFirst()).indexOf(name);
        assertTrue(c >= 0, () -> file + " has no column " + name);
        return rows.stream().skip(1).mapToDouble(r -> Double.parseDouble(r[c])).toArray();
    }

    /** Asserts that every value is finite. */
    static void assertFinite(double[] values, String what) {
        for (double v : values) {
            assertTrue(Double.isFinite(v), () -> what + " holds " + v + ": " + Arrays.toString(values));
        }
    }

    /** Asserts that {@code png} is an image ImageIO can read, of a plausible size. */
    static BufferedImage assertPng(Path png) throws IOException {
        assertTrue(Files.isRegularFile(png), () -> png + " was not written");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, () -> png + " is not a readable image");
        assertTrue(img.getWidth() >= 28 && img.getHeight() >= 28, () -> png + " is " + img.getWidth() + "x"
                + img.getHeight());
        return img;
    }

    /** The data rows of the markdown table in {@code md}, each split into trimmed cells. */
    static List<List<String>> tableRows(String md) {
        List<List<String>> rows = new ArrayList<>();
        for (String line : md.lines().toList()) {
            if (line.startsWith("|") && !line.startsWith("| -")) {
                List<String> cells = new ArrayList<>();
                String[] parts = line.split("\\|");
                for (int i = 1; i < parts.length; i++) {
                    cells.add(parts[i].trim());
                }
                rows.add(cells);
            }
        }
        return rows.subList(1, rows.size());
    }

    /** Parses a cell like {@code 12.34%} as a fraction. */
    static double percent(String cell) {
        assertTrue(cell.endsWith("%"), cell);
        return Double.parseDouble(cell.substring(0, cell.length() - 1)) / 100;
    }
}
