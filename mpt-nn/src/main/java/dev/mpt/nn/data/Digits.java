package dev.mpt.nn.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * The 8x8 handwritten digits bundled with mpt: 1,797 images of the digits 0 to 9 (UCI "Optical
 * Recognition of Handwritten Digits" test set, E. Alpaydin and C. Kaynak, 1998, CC BY 4.0, in the
 * CSV form scikit-learn ships, BSD-3-Clause; see {@code NOTICE}). Each pixel counts the ink in a 4x4
 * block of a 32x32 bitmap, {@code 0..16}; mpt scales it to {@code [0, 1]} by {@code v / 16}.
 *
 * <p>Small enough for tests and first experiments without downloading anything; split it with
 * {@link Dataset#split(double, long)}.
 */
public final class Digits {

    /** Number of images. */
    public static final int SIZE = 1797;

    private static final String RESOURCE = "digits.csv.gz";
    private static final int PIXELS = 64;
    private static final int MAX_PIXEL = 16;

    private Digits() {
    }

    /** All 1,797 images with shape {@code [1, 8, 8]}, labels {@code 0..9}, pixels in {@code [0, 1]}. */
    public static Dataset load() {
        try (InputStream raw = Digits.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException("Digits.load: resource dev/mpt/nn/data/" + RESOURCE
                        + " is missing from the class path (is mpt-nn's jar complete?)");
            }
            return parse(new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException("Digits.load: cannot read resource dev/mpt/nn/data/" + RESOURCE, e);
        }
    }

    private static Dataset parse(BufferedReader in) throws IOException {
        float[] features = new float[SIZE * PIXELS];
        int[] labels = new int[SIZE];
        int row = 0;
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isEmpty()) {
                continue;
            }
            if (row == SIZE) {
                throw new IOException("digits.csv: more than " + SIZE + " rows");
            }
            String[] cells = line.split(",", -1);
            if (cells.length != PIXELS + 1) {
                throw new IOException("digits.csv line " + (row + 1) + ": " + cells.length + " values, expected "
                        + (PIXELS + 1));
            }
            for (int j = 0; j <= PIXELS; j++) {
                int v = parseInt(cells[j], row);
                int max = j < PIXELS ? MAX_PIXEL : 9;
                if (v < 0 || v > max) {
                    throw new IOException("digits.csv line " + (row + 1) + ", column " + (j + 1) + ": " + v
                            + " is outside [0, " + max + "]");
                }
                if (j < PIXELS) {
                    features[row * PIXELS + j] = (float) v / MAX_PIXEL; // exact: v/16 has at most 5 significant bits
                } else {
                    labels[row] = v;
                }
            }
            row++;
        }
        if (row != SIZE) {
            throw new IOException("digits.csv: " + row + " rows, expected " + SIZE);
        }
        return Dataset.of(features, labels, new int[] {1, 8, 8}, 10);
    }

    private static int parseInt(String s, int row) throws IOException {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new IOException("digits.csv line " + (row + 1) + ": '" + s + "' is not an integer", e);
        }
    }
}
