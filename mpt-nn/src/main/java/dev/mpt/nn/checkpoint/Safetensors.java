package dev.mpt.nn.checkpoint;

import dev.mpt.core.number.DType;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes the safetensors format (Hugging Face), so weights move between mpt and the
 * Python ecosystem ({@code safetensors.torch.load_file}, {@code save_file}). A file is:
 * <ol>
 *   <li>8 bytes: {@code N}, the header's length, unsigned little-endian;</li>
 *   <li>{@code N} bytes: a UTF-8 JSON object, possibly padded with spaces, mapping each tensor name to
 *       {@code {"dtype": "F32"|"F16"|"BF16", "shape": [...], "data_offsets": [begin, end]}} and the
 *       optional key {@code "__metadata__"} to a string-to-string map;</li>
 *   <li>the tensors' little-endian elements; offsets count from the first byte after the header,
 *       and the tensors' byte ranges tile the rest of the file without gaps or overlaps.</li>
 * </ol>
 *
 * <p>mpt writes tensors in the given order, pads the header so the data starts at a multiple of
 * 8 bytes, and replaces the file atomically ({@link AtomicFile}). Reading is strict: any deviation
 * from the format is an {@link IOException} naming the file and the problem.
 */
public final class Safetensors {

    /** The header key of the string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    /** Largest header accepted, the reference implementation's limit (100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Element-conversion chunk: 64 KiB keeps the buffer in L2 and the syscall count low. */
    private static final int CHUNK_BYTES = 1 << 16;

    /** Dtype names of the format that mpt recognizes but does not load. */
    private static final Set<String> UNSUPPORTED_DTYPES = Set.of("BOOL", "U8", "I8", "I16", "U16", "I32", "U32",
            "I64", "U64", "F64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

    private Safetensors() {
    }

    /** The format's name of a dtype: {@code F32}, {@code F16} or {@code BF16}. */
    public static String dtypeName(DType dtype) {
        return switch (Objects.requireNonNull(dtype, "dtype")) {
            case FP32 -> "F32";
            case FP16 -> "F16";
            case BF16 -> "BF16";
        };
    }

    /**
     * Writes {@code tensors} (in this order) and {@code metadata} to {@code file}, replacing it
     * atomically: if anything fails, the previous file is left as it was.
     *
     * @throws IllegalArgumentException when two tensors share a name
     */
    public static void write(Path file, List<NamedTensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(file, "file");
        byte[] header = header(tensors, metadata);
        AtomicFile.write(file, out -> writeBody(out, header, tensors));
    }

    /** Writes the safetensors bytes of {@code tensors} and {@code metadata} to {@code out}; does not close it. */
    public static void write(OutputStream out, List<NamedTensor> tensors, Map<String, String> metadata)
            throws IOException {
        Objects.requireNonNull(out, "out");
        writeBody(out, header(tensors, metadata), tensors);
    }

    /** The 8-byte length and the space-padded JSON header; validates the arguments. */
    private static byte[] header(List<NamedTensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        Map<String, Object> json = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            Map<String, Object> meta = new LinkedHashMap<>();
            metadata.forEach((k, v) -> meta.put(Objects.requireNonNull(k, "metadata key"),
                    Objects.requireNonNull(v, () -> "metadata value of key '" + k + "'")));
            json.put(METADATA_KEY, meta);
        }
        long offset = 0;
        for (NamedTensor t : tensors) {
            Objects.requireNonNull(t, "tensor");
            if (json.containsKey(t.name())) {
                throw new IllegalArgumentException("Safetensors.write: duplicate tensor name '" + t.name() + "'");
            }
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", dtypeName(t.dtype()));
            info.put("shape", Arrays.stream(t.shape()).boxed().toList());
            info.put("data_offsets", List.of(offset, offset + t.byteSize()));
            json.put(t.name(), info);
            offset += t.byteSize();
        }
        byte[] text = Json.write(json).getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(text);
        while (b.hasRemaining()) {
            b.put((byte) ' ');
        }
        return b.array();
    }

    private static void writeBody(OutputStream out, byte[] header, List<NamedTensor> tensors) throws IOException {
        out.write(header);
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (NamedTensor t : tensors) {
            int n = t.numel();
            int per = CHUNK_BYTES / t.dtype().byteSize();
            for (int i = 0; i < n; i += per) {
                int m = Math.min(per, n - i);
                buf.clear();
                if (t.floats() != null) {
                    buf.asFloatBuffer().put(t.floats(), i, m);
                } else {
                    buf.asShortBuffer().put(t.bits(), i, m);
                }
                out.write(buf.array(), 0, m * t.dtype().byteSize());
            }
        }
        out.flush();
    }

    /**
     * Opens {@code file} for reading, or explains why not: it does not exist (with its absolute
     * path, and its directory when that is missing too), it is a directory, or it may not be read.
     * The exceptions keep their {@link java.nio.file} types, so callers can still tell them apart.
     */
    private static FileChannel openForReading(Path file) throws IOException {
        String name = file.toString();
        if (Files.isDirectory(file)) {
            throw new FileSystemException(name, null, "is a directory, not a safetensors file; name the"
                    + " checkpoint file itself");
        }
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            Path abs = file.toAbsolutePath();
            Path dir = abs.getParent();
            String where = (file.isAbsolute() ? "" : " (resolved to " + abs + ")")
                    + (dir != null && !Files.isDirectory(dir) ? "; its directory " + dir + " does not exist either"
                    : "");
            NoSuchFileException n = new NoSuchFileException(name, null, "no such checkpoint file" + where
                    + ". Check the path, or save a checkpoint there first");
            n.initCause(e);
            throw n;
        } catch (AccessDeniedException e) {
            AccessDeniedException a = new AccessDeniedException(name, null, "the checkpoint file exists but may not be"
                    + " read; check its permissions");
            a.initCause(e);
            throw a;
        }
    }

    /**
     * Reads a safetensors file of F32, F16 and BF16 tensors. To check a file against what it must
     * fit before reading its data, use {@link #open(Path)} instead.
     *
     * @throws IOException when the file cannot be read or breaks the format: truncated, header length
     *                     past the end, malformed JSON, unknown or unsupported dtype, offsets out of
     *                     range, overlapping, leaving gaps or not matching the shape, duplicate names
     */
    public static SafetensorsFile read(Path file) throws IOException {
        try (SafetensorsReader r = open(file)) {
            return r.readAll();
        }
    }

    /**
     * Opens a safetensors file and reads and checks its header (as {@link #read(Path)} does) without
     * reading any tensor data; the reader then reads the tensors asked for.
     *
     * @throws NoSuchFileException   when the file does not exist; the message gives its absolute
     *                                path and what to do
     * @throws AccessDeniedException  when it may not be read
     * @throws FileSystemException    when it is a directory
     * @throws IOException            when the file cannot be read or its header breaks the format
     *                                (see {@link #read(Path)}); the file is then closed
     */
    public static SafetensorsReader open(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        FileChannel ch = openForReading(file);
        try {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "truncated: " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes (is it a safetensors file?)");
            }
            if (8 + n > size) {
                throw bad(file, "header length " + n + " runs past the end of the file (" + size + " bytes)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headerBuf, 8, file);
            List<Entry> entries = new ArrayList<>();
            Map<String, String> metadata = parseHeader(headerBuf.array(), entries, file);
            long dataStart = 8 + n;
            checkOffsets(entries, size - dataStart, file);
            Map<String, Entry> byName = new LinkedHashMap<>();
            entries.forEach(e -> byName.put(e.name(), e));
            return new SafetensorsReader(file, ch, Collections.unmodifiableMap(metadata), byName, dataStart);
        } catch (Throwable t) {
            try {
                ch.close();
            } catch (IOException c) {
                t.addSuppressed(c);
            }
            throw t;
        }
    }

    /** One header entry before its data is read. */
    record Entry(String name, DType dtype, int[] shape, long begin, long end) {
    }

    private static Map<String, String> parseHeader(byte[] bytes, List<Entry> entries, Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "header is not valid UTF-8");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw bad(file, "header does not start with '{' (is it a safetensors file?)");
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw bad(file, "malformed header JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw bad(file, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : map.entrySet()) {
            String name = (String) kv.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(kv.getValue() instanceof Map<?, ?> meta)) {
                    throw bad(file, METADATA_KEY + " is not a JSON object");
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String v)) {
                        throw bad(file, METADATA_KEY + " value of key '" + m.getKey() + "' is not a string");
                    }
                    metadata.put((String) m.getKey(), v);
                }
            } else {
                entries.add(entry(name, kv.getValue(), file));
            }
        }
        return metadata;
    }

    private static Entry entry(String name, Object value, Path file) throws IOException {
        String what = "tensor '" + name + "'";
        if (name.isEmpty()) {
            throw bad(file, "a tensor has an empty name");
        }
        if (!(value instanceof Map<?, ?> info)) {
            throw bad(file, what + ": entry is not a JSON object");
        }
        Set<Object> keys = new HashSet<>(info.keySet());
        keys.removeAll(Set.of("dtype", "shape", "data_offsets"));
        if (!keys.isEmpty()) {
            throw bad(file, what + ": unknown keys " + keys + " (expected dtype, shape, data_offsets)");
        }
        if (!(info.get("dtype") instanceof String dtypeName)) {
            throw bad(file, what + ": dtype is missing or not a string");
        }
        DType dtype = switch (dtypeName) {
            case "F32" -> DType.FP32;
            case "F16" -> DType.FP16;
            case "BF16" -> DType.BF16;
            default -> throw bad(file, what + ": " + (UNSUPPORTED_DTYPES.contains(dtypeName)
                    ? "dtype " + dtypeName + " is not supported" : "unknown dtype \"" + dtypeName + "\"")
                    + " (mpt reads F32, F16 and BF16)");
        };
        if (!(info.get("shape") instanceof List<?> dims)) {
            throw bad(file, what + ": shape is missing or not an array");
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw bad(file, what + ": shape " + dims + " has an entry that is not an integer in [0, 2^31-1]");
            }
            shape[i] = (int) (long) d;
        }
        if (NamedTensor.numel(shape) < 0) {
            throw bad(file, what + ": shape " + dims + " has more elements than a Java array holds");
        }
        if (!(info.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                || !(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end)) {
            throw bad(file, what + ": data_offsets is missing or not an array of two integers");
        }
        if (begin < 0 || end < begin) {
            throw bad(file, what + ": data_offsets " + offs + " must satisfy 0 <= begin <= end");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** Checks that the entries' ranges match their shapes and tile {@code [0, dataBytes)}; sorts them by offset. */
    private static void checkOffsets(List<Entry> entries, long dataBytes, Path file) throws IOException {
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry previous = null;
        for (Entry e : entries) {
            String where = "tensor '" + e.name + "': data_offsets [" + e.begin + ", " + e.end + "]";
            if (e.end > dataBytes) {
                throw bad(file, where + " run past the end of the data (" + dataBytes + " bytes after the header;"
                        + " is the file truncated?)");
            }
            long need = NamedTensor.numel(e.shape) * e.dtype.byteSize();
            if (e.end - e.begin != need) {
                throw bad(file, where + " hold " + (e.end - e.begin) + " bytes, but shape " + Arrays.toString(e.shape)
                        + " of " + dtypeName(e.dtype) + " needs " + need);
            }
            if (e.begin < expected) {
                throw bad(file, where + " overlap tensor '" + previous.name + "' ending at " + expected);
            }
            if (e.begin > expected) {
                throw bad(file, where + " leave a gap of " + (e.begin - expected) + " bytes before them");
            }
            expected = e.end;
            previous = e;
        }
        if (expected != dataBytes) {
            throw bad(file, (dataBytes - expected) + " bytes after the last tensor's data are not described"
                    + " by the header");
        }
    }

    /** Reads one tensor's elements in chunks of {@link #CHUNK_BYTES}, so no second full-size copy is made. */
    static NamedTensor readTensor(FileChannel ch, Entry e, long dataStart, Path file) throws IOException {
        int n = (int) NamedTensor.numel(e.shape);
        int bytesPer = e.dtype.byteSize();
        int per = CHUNK_BYTES / bytesPer;
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = e.dtype == DType.FP32 ? new float[n] : null;
        short[] s = f == null ? new short[n] : null;
        for (int i = 0; i < n; i += per) {
            int m = Math.min(per, n - i);
            buf.clear().limit(m * bytesPer);
            readFully(ch, buf, dataStart + e.begin + (long) i * bytesPer, file);
            buf.flip();
            if (f != null) {
                buf.asFloatBuffer().get(f, i, m);
            } else {
                buf.asShortBuffer().get(s, i, m);
            }
        }
        return f != null ? NamedTensor.ofFloats(e.name, e.shape, f) : NamedTensor.ofBits(e.name, e.dtype, e.shape, s);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw bad(file, "truncated: end of file at byte " + pos);
            }
            pos += r;
        }
    }

    private static IOException bad(Path file, String problem) {
        return new IOException("safetensors file " + file + ": " + problem);
    }
}
