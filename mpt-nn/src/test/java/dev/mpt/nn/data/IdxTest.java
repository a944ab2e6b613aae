package dev.mpt.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxTest {

    @TempDir
    Path dir;

    private static IdxArray images(int n, int rows, int cols, long seed) {
        byte[] px = new byte[n * rows * cols];
        new SplittableRandom(seed).nextBytes(px);
        return IdxArray.ofUnsignedBytes(new int[] {n, rows, cols}, px);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void roundTripsEveryType(boolean gzip) throws IOException {
        IdxArray[] arrays = {
            images(3, 4, 5, 1),
            IdxArray.ofInts(new int[] {2, 3}, new int[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 7, 42}),
            IdxArray.ofFloats(new int[] {4}, new float[] {1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE}),
            new IdxArray(IdxType.SHORT, new int[] {2}, new byte[] {(byte) 0x80, 0, 0x7f, (byte) 0xff}),
            new IdxArray(IdxType.BYTE, new int[] {0}, new byte[0]),
        };
        for (IdxArray a : arrays) {
            Path f = dir.resolve("a-" + a.type() + (gzip ? ".gz" : ""));
            Idx.write(f, a, gzip);
            assertEquals(a, Idx.read(f));
        }
    }

    @Test
    void detectsGzipByContentNotName() throws IOException {
        IdxArray a = images(2, 3, 3, 2);
        Path gzNamedPlain = dir.resolve("plain.gz");
        Path plainNamedGz = dir.resolve("compressed-without-suffix");
        Idx.write(gzNamedPlain, a, false);
        Idx.write(plainNamedGz, a, true);
        assertEquals(0x1f, Files.readAllBytes(plainNamedGz)[0] & 0xff);
        assertEquals(a, Idx.read(gzNamedPlain));
        assertEquals(a, Idx.read(plainNamedGz));
    }

    @Test
    void writesTheDocumentedBytes() throws IOException {
        Path f = dir.resolve("labels");
        Idx.write(f, IdxArray.ofUnsignedBytes(new int[] {3}, new byte[] {7, 0, (byte) 200}), false);
        // magic 0x00000801, dimension 3, then the three bytes (the MNIST labels layout)
        assertArrayEquals(new byte[] {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, (byte) 200}, Files.readAllBytes(f));
        assertArrayEquals(new int[] {7, 0, 200}, Idx.read(f, Idx.MAGIC_LABELS).toInts());
    }

    @Test
    void decodesElementsAgainstDoubleReference() {
        byte[] px = new byte[256];
        for (int i = 0; i < 256; i++) {
            px[i] = (byte) i;
        }
        float[] f = IdxArray.ofUnsignedBytes(new int[] {256}, px).toFloats(1.0 / 255);
        for (int i = 0; i < 256; i++) {
            // i * (1/255) in double is within 1 ulp(double) of i/255, far below half an ulp of float,
            // so the float is the nearest float to i/255 unless i/255 sits on a float rounding tie,
            // which a rational with denominator 255 cannot do (a tie has a power-of-two denominator).
            assertEquals((float) (i / 255.0), f[i], "pixel " + i);
        }
        assertEquals(0f, f[0]);
        assertEquals(1f, f[255]);
        IdxArray ints = IdxArray.ofInts(new int[] {3}, new int[] {-5, 0, 123456789});
        assertArrayEquals(new float[] {-5f, 0f, 123456792f}, ints.toFloats(1.0)); // 123456789 rounds to float
        assertThrows(IllegalStateException.class,
                () -> IdxArray.ofFloats(new int[] {1}, new float[] {1f}).toInts());
    }

    private Path raw(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    private Path gz(String name, byte[] bytes) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bos)) {
            g.write(bytes);
        }
        return raw(name, bos.toByteArray());
    }

    private static byte[] header(int magic, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length).putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private void assertRejected(byte[] bytes, String... fragments) throws IOException {
        for (boolean gzip : new boolean[] {false, true}) {
            Path f = gzip ? gz("bad.gz", bytes) : raw("bad", bytes);
            IOException e = assertThrows(IOException.class, () -> Idx.read(f));
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
            for (String s : fragments) {
                assertTrue(e.getMessage().contains(s), "'" + s + "' missing in: " + e.getMessage());
            }
        }
    }

    @Test
    void rejectsCorruptFiles() throws IOException {
        assertRejected(concat(header(0x01000801, 1), new byte[1]), "bad magic number");
        assertRejected(concat(header(0x00000701, 1), new byte[1]), "unknown element type 0x07");
        assertRejected(header(0x00000800), "0 dimensions");
        assertRejected(new byte[] {0, 0}, "truncated");
        assertRejected(concat(header(0x00000803, 2, 2), new byte[0]), "truncated in the header");
        assertRejected(concat(header(0x00000803, 2, 2, 2), new byte[7]), "truncated", "need 8 data bytes, found 7");
        assertRejected(concat(header(0x00000803, 2, 2, 2), new byte[9]), "extra bytes", "found 9");
        assertRejected(concat(header(0x00000801, -3), new byte[3]), "dimension 0 is negative");
        assertRejected(header(0x00000D03, 65536, 65536, 2), "exceed the largest array");
        assertRejected(new byte[0], "truncated");
    }

    @Test
    void rejectsTruncatedGzipStream() throws IOException {
        Path good = dir.resolve("good.gz");
        Idx.write(good, images(10, 8, 8, 3), true);
        byte[] all = Files.readAllBytes(good);
        Path cut = raw("cut.gz", Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class, () -> Idx.read(cut));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void checksExpectedMagic() throws IOException {
        Path f = dir.resolve("labels");
        Idx.write(f, IdxArray.ofUnsignedBytes(new int[] {2}, new byte[] {1, 2}), false);
        IOException e = assertThrows(IOException.class, () -> Idx.read(f, Idx.MAGIC_IMAGES));
        assertTrue(e.getMessage().contains("0x00000801") && e.getMessage().contains("expected 0x00000803"),
                e.getMessage());
    }

    @Test
    void validatesArrays() {
        assertThrows(IllegalArgumentException.class, () -> IdxArray.ofUnsignedBytes(new int[] {2, 2}, new byte[3]));
        assertThrows(IllegalArgumentException.class, () -> IdxArray.ofUnsignedBytes(new int[] {-1}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> IdxArray.ofUnsignedBytes(new int[0], new byte[0]));
        assertThrows(NullPointerException.class, () -> IdxArray.ofUnsignedBytes(null, new byte[0]));
        assertThrows(NullPointerException.class, () -> Idx.read(null));
    }

    @Test
    void readShapeChecksTheHeaderAndTheFileLengthWithoutReadingData() throws IOException {
        for (boolean gzip : new boolean[] {false, true}) {
            Path f = dir.resolve("images" + gzip);
            Idx.write(f, IdxArray.ofUnsignedBytes(new int[] {2, 3, 4}, new byte[24]), gzip);
            assertArrayEquals(new int[] {2, 3, 4}, Idx.readShape(f, Idx.MAGIC_IMAGES));
            IOException e = assertThrows(IOException.class, () -> Idx.readShape(f, Idx.MAGIC_LABELS));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("expected 0x00000801"),
                    e.getMessage());
        }
        // an uncompressed header declaring 2.1 GB of pixels in a 16-byte file
        Path f = dir.resolve("huge");
        Files.write(f, ByteBuffer.allocate(16).putInt(Idx.MAGIC_IMAGES).putInt(1).putInt(46340).putInt(46340).array());
        IOException e = assertThrows(IOException.class, () -> Idx.readShape(f, Idx.MAGIC_IMAGES));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("need 2147395600 data bytes, found 0"),
                e.getMessage());
    }
}
