package dev.mpt.nn.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.number.DType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    private static float[] randomFloats(int n, SplittableRandom rng) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) rng.nextGaussian();
        }
        return f;
    }

    private static short[] randomBits(int n, SplittableRandom rng) {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) {
            s[i] = (short) rng.nextInt(); // every pattern, NaNs and infinities included
        }
        return s;
    }

    @Test
    void roundTripsF32F16Bf16WithMetadataInOrder() throws IOException {
        SplittableRandom rng = new SplittableRandom(17);
        float[] specials = {0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.NaN, 1e-40f};
        List<NamedTensor> tensors = List.of(
                NamedTensor.ofFloats("fc1.weight", new int[] {30, 7}, randomFloats(210, rng)),
                NamedTensor.ofBits("fc1.weight.fp16", DType.FP16, new int[] {3, 5, 7}, randomBits(105, rng)),
                NamedTensor.ofFloats("specials", new int[] {7}, specials),
                NamedTensor.ofBits("bf", DType.BF16, new int[] {33}, randomBits(33, rng)),
                NamedTensor.ofFloats("scalar \"quoted\" caf\u00e9", new int[0], new float[] {2.5f}),
                NamedTensor.ofBits("empty", DType.FP16, new int[] {2, 0}, new short[0]),
                NamedTensor.ofFloats("a", new int[] {1}, new float[] {-1f}));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("mpt.lossScale", "65536.0");
        meta.put("note", "line\nbreak \u00e9 \uD83D\uDC0B \"q\"");
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, tensors, meta);
        SafetensorsFile back = Safetensors.read(f);
        assertEquals(tensors, back.tensors());
        assertEquals(meta, back.metadata());
        assertEquals(List.copyOf(meta.keySet()), List.copyOf(back.metadata().keySet()));
        assertEquals(tensors.get(3), back.tensor("bf"));
        assertTrue(back.find("missing").isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> back.tensor("missing"));
        assertTrue(e.getMessage().contains("fc1.weight"), e.getMessage());

        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        assertEquals('{', bytes[8]);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals(header.strip() + " ".repeat(header.length() - header.strip().length()), header,
                "the header is the JSON object followed only by space padding");
        // data of the first tensor starts right after the header, little-endian
        assertEquals(tensors.get(0).floats()[0], b.getFloat((int) (8 + n)));
        assertEquals(tensors.get(0).floats()[1], b.getFloat((int) (8 + n + 4)));
        long dataBytes = tensors.stream().mapToLong(NamedTensor::byteSize).sum();
        assertEquals(8 + n + dataBytes, bytes.length);
    }

    @Test
    void emptyFileRoundTrips() throws IOException {
        Path f = dir.resolve("empty.safetensors");
        Safetensors.write(f, List.of(), Map.of());
        SafetensorsFile back = Safetensors.read(f);
        assertEquals(List.of(), back.tensors());
        assertEquals(Map.of(), back.metadata());
        // "{}" padded to 8 bytes
        assertArrayEquals(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '},
                Files.readAllBytes(f));
    }

    @Test
    void streamWriteMatchesFileWrite() throws IOException {
        List<NamedTensor> t = List.of(NamedTensor.ofBits("h", DType.BF16, new int[] {3}, new short[] {1, 2, 3}));
        Path f = dir.resolve("s.safetensors");
        Safetensors.write(f, t, Map.of("k", "v"));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        Safetensors.write(bos, t, Map.of("k", "v"));
        assertArrayEquals(Files.readAllBytes(f), bos.toByteArray());
    }

    /**
     * reference.safetensors was written by the reference implementation (safetensors 0.8.0 with
     * numpy and ml_dtypes) with make_reference.py, next to it in the test resources.
     */
    @Test
    void readsFileWrittenByTheReferenceImplementation() throws IOException {
        Path f = dir.resolve("reference.safetensors");
        try (InputStream in = getClass().getResourceAsStream("reference.safetensors")) {
            Files.copy(in, f);
        }
        SafetensorsFile file = Safetensors.read(f);
        assertEquals(Map.of("format", "np", "note", "caf\u00e9 \"q\"\n"), file.metadata());
        // the reference implementation lays data out by dtype size, then name
        assertEquals(List.of("layer.bias", "layer.weight", "scalar", "bf", "half"), file.names());
        assertEquals(NamedTensor.ofFloats("layer.bias", new int[] {2}, new float[] {Float.POSITIVE_INFINITY, -1f}),
                file.tensor("layer.bias"));
        assertEquals(NamedTensor.ofFloats("layer.weight", new int[] {2, 3},
                new float[] {1.5f, -2.25f, 0.1f, -0f, Float.MAX_VALUE, Float.MIN_VALUE}), file.tensor("layer.weight"));
        assertEquals(NamedTensor.ofFloats("scalar", new int[0], new float[] {7f}), file.tensor("scalar"));
        // numpy rounds the double 1/3 straight to half or bfloat16; going through float first gives the
        // same result because the float 1/3 (0x3EAAAAAB) is far from a half or bfloat16 rounding tie.
        float third = (float) (1.0 / 3.0);
        short[] half = new short[5];
        Convert.floatToHalf(new float[] {1f, 65504f, 0x1p-24f, third, -2f}, 0, half, 0, 5);
        assertEquals(NamedTensor.ofBits("half", DType.FP16, new int[] {5}, half), file.tensor("half"));
        short[] bf = new short[4];
        Convert.floatToBFloat16(new float[] {1f, -3.5f, third, 0x1p100f}, 0, bf, 0, 4);
        assertEquals(NamedTensor.ofBits("bf", DType.BF16, new int[] {2, 2}, bf), file.tensor("bf"));
        assertArrayEquals(new float[] {1f, -3.5f, 0.333984375f, 0x1p100f}, file.tensor("bf").toFloats());

        // and mpt writes the same bytes for the same tensors, order and metadata
        Path mine = dir.resolve("mine.safetensors");
        Safetensors.write(mine, file.tensors(), file.metadata());
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(mine));
    }

    /** A file made of a header text (unpadded) and data bytes, built by hand as the format describes. */
    private Path handMade(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, b.array());
        return f;
    }

    @Test
    void readsAHandMadeFile() throws IOException {
        // 8-byte length, the JSON header with extra spaces, then two F16 values 1.0 (0x3C00) and
        // -2.0 (0xC000), little-endian; metadata after the tensor is allowed.
        Path f = handMade("{ \"x\" : {\"shape\": [2], \"dtype\": \"F16\", \"data_offsets\": [0, 4]},"
                + " \"__metadata__\": {\"a\": \"b\"} }   ", new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0});
        SafetensorsFile file = Safetensors.read(f);
        assertArrayEquals(new float[] {1f, -2f}, file.tensor("x").toFloats());
        assertEquals(Map.of("a", "b"), file.metadata());
    }

    private void assertRejected(Path f, String fragment) {
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' missing in: " + e.getMessage());
    }

    private static String tensor(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}";
    }

    @Test
    void rejectsTruncatedFilesAndBadHeaderLengths() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 0, 0});
        assertRejected(f, "shorter than the 8-byte header length");
        assertRejected(handMade("", new byte[0]), "does not start with '{'");
        Path past = dir.resolve("past.safetensors");
        Files.write(past, new byte[] {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertRejected(past, "runs past the end of the file");
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, '{', '}'});
        assertRejected(huge, "exceeds the limit");
        // a valid file cut inside its data
        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, List.of(NamedTensor.ofFloats("w", new int[] {4}, new float[4])), Map.of());
        byte[] all = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 3));
        assertRejected(cut, "run past the end of the data");
    }

    @Test
    void rejectsMalformedHeaders() throws IOException {
        byte[] four = new byte[4];
        assertRejected(handMade("{" + tensor("w", "F32", "[1]", 0, 4), four), "malformed header JSON");
        assertRejected(handMade("[1]", new byte[0]), "does not start with '{'");
        assertRejected(handMade("{\"w\": 3}", new byte[0]), "entry is not a JSON object");
        assertRejected(handMade("{" + tensor("w", "F32", "[1]", 0, 4) + "," + tensor("w", "F32", "[1]", 4, 8) + "}",
                new byte[8]), "duplicate key \"w\"");
        assertRejected(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", four),
                "unknown keys [extra]");
        assertRejected(handMade("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", four), "shape is missing");
        assertRejected(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", four), "data_offsets is missing");
        assertRejected(handMade("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", four), "dtype is missing");
        assertRejected(handMade("{" + tensor("w", "F32", "[-1]", 0, 4) + "}", four), "not an integer in [0, 2^31-1]");
        assertRejected(handMade("{" + tensor("w", "F32", "[1.5]", 0, 4) + "}", four), "not an integer");
        assertRejected(handMade("{" + tensor("w", "F32", "[65536,65536]", 0, 4) + "}", four),
                "more elements than a Java array holds");
        assertRejected(handMade("{\"__metadata__\":{\"a\":1}}", new byte[0]), "is not a string");
        assertRejected(handMade("{\"__metadata__\":[]}", new byte[0]), "__metadata__ is not a JSON object");
        assertRejected(handMade("{\"\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", new byte[0]),
                "empty name");
        Path latin1 = dir.resolve("latin1.safetensors");
        Files.write(latin1, new byte[] {4, 0, 0, 0, 0, 0, 0, 0, '{', (byte) 0xe9, '}', ' '});
        assertRejected(latin1, "not valid UTF-8");
    }

    @Test
    void rejectsAnIntegerOfAMillionDigitsWithoutParsingIt() throws IOException {
        String digits = "9".repeat(1_000_000);
        assertRejected(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0," + digits + "]}}",
                new byte[4]), "integer of more than 20 digits at offset 50");
        assertRejected(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + digits + "],\"data_offsets\":[0,4]}}",
                new byte[4]), "integer of more than 20 digits");
    }

    @Test
    void rejectsUnknownAndUnsupportedDtypes() throws IOException {
        assertRejected(handMade("{" + tensor("w", "F33", "[1]", 0, 4) + "}", new byte[4]), "unknown dtype \"F33\"");
        assertRejected(handMade("{" + tensor("w", "F64", "[1]", 0, 8) + "}", new byte[8]),
                "dtype F64 is not supported (mpt reads F32, F16 and BF16)");
    }

    @Test
    void rejectsBadDataOffsets() throws IOException {
        assertRejected(handMade("{" + tensor("w", "F32", "[2]", 0, 12) + "}", new byte[8]),
                "run past the end of the data");
        assertRejected(handMade("{" + tensor("w", "F32", "[2]", 0, 4) + "}", new byte[4]),
                "hold 4 bytes, but shape [2] of F32 needs 8");
        assertRejected(handMade("{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "F16", "[2]", 4, 8) + "}",
                new byte[8]), "overlap tensor 'a'");
        assertRejected(handMade("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F16", "[2]", 8, 12) + "}",
                new byte[12]), "leave a gap of 4 bytes");
        assertRejected(handMade("{" + tensor("a", "F32", "[1]", 0, 4) + "}", new byte[6]),
                "2 bytes after the last tensor's data");
        assertRejected(handMade("{" + tensor("a", "F32", "[1]", 4, 0) + "}", new byte[4]), "0 <= begin <= end");
        assertRejected(handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]),
                "not an array of two integers");
    }

    @Test
    void validatesTensorsAndArguments() {
        assertThrows(IllegalArgumentException.class, () -> NamedTensor.ofFloats("w", new int[] {2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> NamedTensor.ofFloats("w", new int[] {-1}, new float[0]));
        assertThrows(IllegalArgumentException.class, () -> NamedTensor.ofFloats("", new int[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class,
                () -> NamedTensor.ofFloats(Safetensors.METADATA_KEY, new int[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> NamedTensor.ofBits("w", DType.FP32, new int[] {1}, new short[1]));
        assertThrows(IllegalArgumentException.class,
                () -> new NamedTensor("w", DType.FP16, new int[] {1}, new float[1], new short[1]));
        assertThrows(NullPointerException.class, () -> NamedTensor.ofFloats("w", new int[] {1}, null));
        List<NamedTensor> dup = List.of(NamedTensor.ofFloats("w", new int[] {1}, new float[1]),
                NamedTensor.ofBits("w", DType.FP16, new int[] {1}, new short[1]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(dir.resolve("dup.safetensors"), dup, Map.of()));
        assertTrue(e.getMessage().contains("duplicate tensor name 'w'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsFile(Map.of(), dup));
        assertThrows(NullPointerException.class, () -> Safetensors.read(null));
    }

    @Test
    void widensHalfAndBfloatExactly() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        float[] h = NamedTensor.ofBits("h", DType.FP16, new int[] {65536}, all).toFloats();
        float[] b = NamedTensor.ofBits("b", DType.BF16, new int[] {65536}, all).toFloats();
        for (int i = 0; i < all.length; i++) {
            assertEquals(Float.float16ToFloat((short) i), h[i]);
            assertEquals(Float.floatToRawIntBits(Float.intBitsToFloat(i << 16)), Float.floatToRawIntBits(b[i]));
        }
    }

    @Test
    void failedWriteKeepsThePreviousFile() throws IOException {
        Path f = dir.resolve("ckpt.safetensors");
        List<NamedTensor> v1 = List.of(NamedTensor.ofFloats("w", new int[] {2}, new float[] {1, 2}));
        Safetensors.write(f, v1, Map.of("step", "1"));
        byte[] before = Files.readAllBytes(f);
        List<NamedTensor> dup = List.of(v1.get(0), v1.get(0));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(f, dup, Map.of()));
        assertArrayEquals(before, Files.readAllBytes(f));
        List<NamedTensor> v2 = List.of(NamedTensor.ofFloats("w", new int[] {2}, new float[] {3, 4}));
        Safetensors.write(f, v2, Map.of("step", "2"));
        assertEquals(v2, Safetensors.read(f).tensors());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary files left");
        }
    }
}
