package dev.mpt.nn.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Reads and writes the IDX format of the MNIST family: a big-endian magic number
 * {@code 0x00 0x00 type rank}, then {@code rank} big-endian int32 dimensions, then the elements.
 * A file may be gzip-compressed; that is recognized by its first two bytes ({@code 0x1f 0x8b}),
 * not by its name.
 *
 * <p>Reading is strict: a wrong magic number, an unknown type, negative dimensions, a size that
 * does not fit a Java array, a truncated file or bytes after the last element each fail with an
 * {@link IOException} that names the file and the problem.
 */
public final class Idx {

    /** Magic number of an IDX file of unsigned-byte images {@code [count, rows, columns]}. */
    public static final int MAGIC_IMAGES = 0x00000803;
    /** Magic number of an IDX file of unsigned-byte labels {@code [count]}. */
    public static final int MAGIC_LABELS = 0x00000801;

    private static final int MAX_BYTES = Integer.MAX_VALUE - 8;

    private Idx() {
    }

    /**
     * Reads an IDX file of any type and rank.
     *
     * @throws NoSuchFileException when the file does not exist
     * @throws IOException         when it is not a well-formed IDX file (the message names the file)
     */
    public static IdxArray read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (InputStream raw = Files.newInputStream(file)) {
            BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
            boolean gzip = isGzip(in);
            long rawSize = gzip ? -1 : Files.size(file);
            return read(gzip ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in, file, rawSize);
        } catch (java.util.zip.ZipException e) {
            throw new IOException("IDX file " + file + ": corrupt gzip data: " + e.getMessage(), e);
        } catch (java.io.EOFException e) {
            throw new IOException("IDX file " + file + ": truncated gzip data: " + e.getMessage(), e);
        }
    }

    /**
     * Reads an IDX file and checks its magic number, e.g. {@link #MAGIC_IMAGES}.
     *
     * @throws IOException when the file's magic number differs or the file is malformed
     */
    public static IdxArray read(Path file, int expectedMagic) throws IOException {
        IdxArray a = read(file);
        checkMagic(file, a.type(), a.rank(), expectedMagic);
        return a;
    }

    /**
     * Reads only the header of an IDX file and returns its dimensions, after the checks
     * {@link #read(Path, int)} makes before reading data: the magic number, the dimensions, and, for
     * an uncompressed file, that its length is what the dimensions declare. Lets a caller reject a
     * file by its shape before any of its data is read or allocated.
     *
     * @throws IOException when the header is malformed, the magic number differs, or the file's length
     *                     does not match (the message names the file)
     */
    public static int[] readShape(Path file, int expectedMagic) throws IOException {
        Objects.requireNonNull(file, "file");
        try (InputStream raw = Files.newInputStream(file)) {
            BufferedInputStream in = new BufferedInputStream(raw, 1 << 12);
            boolean gzip = isGzip(in);
            long rawSize = gzip ? -1 : Files.size(file);
            Header h = header(gzip ? new GZIPInputStream(in, 1 << 12) : in, file, rawSize);
            checkMagic(file, h.type(), h.shape().length, expectedMagic);
            return h.shape();
        } catch (java.util.zip.ZipException e) {
            throw new IOException("IDX file " + file + ": corrupt gzip data: " + e.getMessage(), e);
        } catch (java.io.EOFException e) {
            throw new IOException("IDX file " + file + ": truncated gzip data: " + e.getMessage(), e);
        }
    }

    private static void checkMagic(Path file, IdxType type, int rank, int expectedMagic) throws IOException {
        int magic = magic(type, rank);
        if (magic != expectedMagic) {
            throw new IOException(String.format("IDX file %s: magic number 0x%08x (%s, %d dimensions), expected 0x%08x",
                    file, magic, type, rank, expectedMagic));
        }
    }

    /** Writes {@code array} as an IDX file, gzip-compressed when {@code gzip} is true. */
    public static void write(Path file, IdxArray array, boolean gzip) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(array, "array");
        try (OutputStream raw = Files.newOutputStream(file)) {
            OutputStream os = gzip ? new GZIPOutputStream(raw, 1 << 16) : raw;
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16));
            out.writeInt(magic(array.type(), array.rank()));
            for (int i = 0; i < array.rank(); i++) {
                out.writeInt(array.dim(i));
            }
            out.write(array.data());
            out.flush();
            if (os instanceof GZIPOutputStream g) {
                g.finish();
            }
        }
    }

    /** The magic number {@code 0x0000TTRR} for a type and rank. */
    public static int magic(IdxType type, int rank) {
        return type.code() << 8 | rank;
    }

    static boolean isGzip(BufferedInputStream in) throws IOException {
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b;
    }

    /** A parsed header: element type, dimensions, and the data's length in bytes. */
    private record Header(IdxType type, int[] shape, long bytes) {
    }

    private static IdxArray read(InputStream in, Path file, long rawSize) throws IOException {
        Header h = header(in, file, rawSize);
        int[] shape = h.shape();
        IdxType type = h.type();
        long bytes = h.bytes();
        byte[] data = in.readNBytes((int) bytes);
        if (data.length < bytes) {
            throw new IOException(sizeMismatch(file, shape, type, bytes, data.length));
        }
        if (in.read() != -1) {
            long extra = 1 + in.transferTo(OutputStream.nullOutputStream());
            throw new IOException(sizeMismatch(file, shape, type, bytes, bytes + extra));
        }
        return new IdxArray(type, shape, data);
    }

    /**
     * Reads the magic number and dimensions and checks them, and for an uncompressed file
     * ({@code rawSize >= 0}) that its length matches, before anything the size of the data is allocated.
     */
    private static Header header(InputStream in, Path file, long rawSize) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IOException("IDX file " + file + ": truncated: " + magic.length
                    + " bytes, shorter than the 4-byte magic number");
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IOException(String.format("IDX file %s: bad magic number 0x%02x%02x%02x%02x: the first two bytes"
                    + " must be zero (is it an IDX file?)", file, magic[0], magic[1], magic[2], magic[3]));
        }
        IdxType type = IdxType.ofCode(magic[2] & 0xff);
        if (type == null) {
            throw new IOException(String.format("IDX file %s: unknown element type 0x%02x in magic number (known: %s)",
                    file, magic[2] & 0xff, Arrays.toString(IdxType.values())));
        }
        int rank = magic[3] & 0xff;
        if (rank == 0) {
            throw new IOException("IDX file " + file + ": magic number declares 0 dimensions");
        }
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new IOException("IDX file " + file + ": truncated in the header: " + rank + " dimensions need "
                    + 4 * rank + " bytes, found " + dimBytes.length);
        }
        int[] shape = new int[rank];
        long bytes = type.byteSize();
        for (int i = 0; i < rank; i++) {
            int o = 4 * i;
            shape[i] = (dimBytes[o] & 0xff) << 24 | (dimBytes[o + 1] & 0xff) << 16
                    | (dimBytes[o + 2] & 0xff) << 8 | dimBytes[o + 3] & 0xff;
            if (shape[i] < 0) {
                throw new IOException("IDX file " + file + ": dimension " + i + " is negative ("
                        + Integer.toUnsignedString(shape[i]) + " as unsigned)");
            }
        }
        for (int d : shape) {
            bytes *= d;
            if (bytes > MAX_BYTES) {
                throw new IOException("IDX file " + file + ": dimensions " + Arrays.toString(shape) + " of " + type
                        + " exceed the largest array mpt can load (" + MAX_BYTES + " bytes)");
            }
        }
        long headerBytes = 4 + 4L * rank;
        if (rawSize >= 0 && rawSize != headerBytes + bytes) {
            throw new IOException(sizeMismatch(file, shape, type, bytes, rawSize - headerBytes));
        }
        return new Header(type, shape, bytes);
    }

    private static String sizeMismatch(Path file, int[] shape, IdxType type, long expected, long found) {
        String what = found < expected ? "truncated" : "extra bytes after the data";
        return "IDX file " + file + ": " + what + ": dimensions " + Arrays.toString(shape) + " of " + type + " need "
                + expected + " data bytes, found " + found;
    }
}
