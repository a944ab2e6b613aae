package dev.mpt.nn.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.BatchNorm1d;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {

    @TempDir
    Path dir;

    private static Sequential model(long seed) {
        var rng = new SplittableRandom(seed);
        return new Sequential(new Linear(4, 3, rng), new BatchNorm1d(3), new ReLU(), new Linear(3, 2, rng));
    }

    /** Every parameter and buffer, widened to FP32, by name. */
    private static Map<String, float[]> snapshot(Module m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Checkpoints.stateDict(m).forEach((n, t) -> out.put(n, t.toFloatArray()));
        return out;
    }

    private static void assertSameState(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        a.forEach((n, v) -> assertArrayEquals(v, b.get(n), n));
    }

    @Test
    void roundTripFp32AndFp16WithMetadata() throws IOException {
        for (DType dt : new DType[] {DType.FP32, DType.FP16}) {
            var src = model(1);
            src.forward(Tensor.randn(new SplittableRandom(2), DType.FP32, 5, 4)); // moves the running stats
            src.to(dt);
            Path f = dir.resolve("m-" + dt + ".safetensors");
            Checkpoints.save(src, f, Map.of("epoch", "3"));
            var dst = model(99).to(dt);
            Tensor weightBefore = dst.namedParameters().get("0.weight").value();
            Map<String, String> meta = Checkpoints.load(dst, f);
            assertEquals("3", meta.get("epoch"));
            assertSameState(snapshot(src), snapshot(dst));
            assertSame(weightBefore, dst.namedParameters().get("0.weight").value(), "loaded in place");
            SafetensorsFile file = Safetensors.read(f);
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "1.running_mean",
                    "1.running_var"), file.names());
            assertEquals(dt, file.tensor("0.weight").dtype());
            assertEquals(DType.FP32, file.tensor("1.weight").dtype());
            assertEquals(DType.FP32, file.tensor("1.running_var").dtype());
        }
    }

    @Test
    void stateDictIsACopyAndMapsRoundTrip() {
        var m = model(3).to(DType.BF16);
        Map<String, Tensor> state = Checkpoints.stateDict(m);
        state.get("0.weight").fill_(7f);
        assertTrue(m.namedParameters().get("0.weight").value().get(0, 0) != 7f);
        Map<String, Tensor> back = Checkpoints.toTensors(Checkpoints.toNamedTensors(state));
        assertEquals(state.keySet(), back.keySet());
        state.forEach((n, t) -> {
            assertEquals(t.dtype(), back.get(n).dtype(), n);
            assertArrayEquals(t.toFloatArray(), back.get(n).toFloatArray(), n);
        });
        Checkpoints.loadStateDict(m, back);
        assertEquals(7f, m.namedParameters().get("0.weight").value().get(1, 2));
    }

    @Test
    void mismatchedStateIsReportedByNameAndLeavesTheModelUnchanged() {
        var m = model(4);
        Map<String, float[]> before = snapshot(m);
        Map<String, Tensor> state = Checkpoints.stateDict(model(5));
        state.remove("3.bias");
        state.put("extra.weight", Tensor.ones(2));
        state.put("0.weight", Tensor.ones(4, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadStateDict(m, state));
        String msg = e.getMessage();
        assertTrue(msg.contains("missing keys [3.bias]") && msg.contains("unexpected keys [extra.weight]")
                && msg.contains("'0.weight' is FP32[4, 3], the model has FP32[3, 4]"), msg);
        assertSameState(before, snapshot(m));

        Map<String, Tensor> wrongDtype = Checkpoints.stateDict(model(5));
        wrongDtype.put("1.running_mean", Tensor.zeros(DType.FP16, 3));
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadStateDict(m, wrongDtype));
        assertTrue(e.getMessage().contains("'1.running_mean' is FP16[3]"), e.getMessage());
        assertSameState(before, snapshot(m));
    }

    /**
     * Writes {@code model}'s state as a safetensors file with one more F32 tensor {@code extra} of
     * {@code extraNumel} elements; when {@code extra} names one of the model's tensors it replaces
     * that one. The extra tensor's data is a hole ({@link RandomAccessFile#setLength}), so the file
     * may be gigabytes long and still cost no disk.
     */
    private Path sparseWith(Module model, String extra, long extraNumel) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        long offset = 0;
        for (NamedTensor t : Checkpoints.toNamedTensors(Checkpoints.stateDict(model))) {
            if (t.name().equals(extra)) {
                continue;
            }
            header.put(t.name(), Map.of("dtype", Safetensors.dtypeName(t.dtype()),
                    "shape", java.util.Arrays.stream(t.shape()).boxed().toList(),
                    "data_offsets", List.of(offset, offset + t.byteSize())));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) t.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(t.floats());
            data.write(b.array());
            offset += t.byteSize();
        }
        header.put(extra, Map.of("dtype", "F32", "shape", List.of(extraNumel),
                "data_offsets", List.of(offset, offset + 4 * extraNumel)));
        byte[] h = (Json.write(header) + "        ").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int padded = h.length & ~7;
        Path f = dir.resolve("sparse-" + extra + ".safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            raf.write(len.putLong(padded).array());
            raf.write(h, 0, padded);
            raf.write(data.toByteArray());
            raf.setLength(8 + padded + offset + 4 * extraNumel);
        }
        return f;
    }

    @Test
    void aFileThatDoesNotFitIsRejectedFromItsHeaderWithoutReadingItsData() throws IOException {
        var m = model(10);
        Map<String, float[]> before = snapshot(m);
        long huge = Integer.MAX_VALUE - 8;                  // 8 GiB of F32, the largest tensor the format reader allows
        Path extra = sparseWith(model(11), "extra", huge);
        assertTrue(Files.size(extra) > 8_000_000_000L, "size " + Files.size(extra));
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(m, extra));
        assertTrue(e.getMessage().contains(extra.toString()) && e.getMessage().contains("unexpected keys [extra]"),
                e.getMessage());
        assertSameState(before, snapshot(m));

        Path wrongShape = sparseWith(model(11), "0.weight", huge);
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(m, wrongShape));
        assertTrue(e.getMessage().contains(wrongShape.toString())
                && e.getMessage().contains("'0.weight' is FP32[2147483639], the model has FP32[3, 4]"), e.getMessage());
        assertSameState(before, snapshot(m));

        // the header alone tells names, dtypes and shapes; only the tensors asked for are read
        try (SafetensorsReader r = Safetensors.open(extra)) {
            assertEquals("extra", r.names().get(r.names().size() - 1));
            assertArrayEquals(new int[] {Integer.MAX_VALUE - 8}, r.shape("extra"));
            assertEquals(DType.FP32, r.dtype("extra"));
            assertArrayEquals(snapshot(model(11)).get("3.bias"), r.read("3.bias").floats());
            var missing = assertThrows(IllegalArgumentException.class, () -> r.read("nope"));
            assertTrue(missing.getMessage().contains("no tensor 'nope'") && missing.getMessage().contains("extra"),
                    missing.getMessage());
        }
    }

    @Test
    void corruptFilesAreRejectedAndLeaveTheModelUnchanged() throws IOException {
        Path f = dir.resolve("good.safetensors");
        Checkpoints.save(model(6), f, Map.of());
        byte[] bytes = Files.readAllBytes(f);
        var m = model(7);
        Map<String, float[]> before = snapshot(m);

        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        assertThrows(IOException.class, () -> Checkpoints.load(m, truncated));
        assertSameState(before, snapshot(m));

        Path header = dir.resolve("header.safetensors");
        byte[] bad = bytes.clone();
        bad[8] = '#'; // the header's opening brace
        Files.write(header, bad);
        assertThrows(IOException.class, () -> Checkpoints.load(m, header));
        assertSameState(before, snapshot(m));

        Path other = dir.resolve("other.safetensors");
        var rng = new SplittableRandom(8);
        Checkpoints.save(new Sequential(new Linear(4, 5, rng), new BatchNorm1d(5), new ReLU(), new Linear(5, 2, rng)),
                other, Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(m, other));
        assertTrue(e.getMessage().contains("other.safetensors") && e.getMessage().contains("'0.weight'"), e.getMessage());
        assertSameState(before, snapshot(m));

        Path fp16 = dir.resolve("fp16.safetensors");
        Checkpoints.save(model(9).to(DType.FP16), fp16, Map.of());
        assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(m, fp16));
        assertSameState(before, snapshot(m));

        assertThrows(IOException.class, () -> Checkpoints.load(m, dir.resolve("missing.safetensors")));
        assertThrows(NullPointerException.class, () -> Checkpoints.save(m, null, Map.of()));
        assertThrows(NullPointerException.class, () -> Checkpoints.loadStateDict(m, null));
    }
}
