package dev.mpt.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DigitsTest {

    @Test
    void loadsTheBundledDigits() {
        Dataset d = Digits.load();
        assertEquals(Digits.SIZE, d.size());
        assertEquals(1797, d.size());
        assertArrayEquals(new int[] {1, 8, 8}, d.featureShape());
        assertEquals(10, d.numClasses());
        // class counts of the UCI optdigits test set (scikit-learn's load_digits documentation)
        assertArrayEquals(new int[] {178, 182, 177, 183, 181, 182, 181, 179, 174, 180}, d.classCounts());
        for (int i = 0; i < d.size(); i++) {
            for (float v : d.features(i)) {
                assertTrue(v >= 0 && v <= 1 && v * 16 == Math.rint(v * 16), "pixel " + v + " of image " + i);
            }
        }
        // first row of digits.csv: a zero
        float[] first = d.features(0);
        int[] firstRow = {0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0};
        for (int j = 0; j < firstRow.length; j++) {
            assertEquals(firstRow[j] / 16f, first[j]);
        }
        assertEquals(0, d.label(0));
    }
}
