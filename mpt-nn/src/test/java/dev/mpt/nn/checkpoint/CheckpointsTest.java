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
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
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

        // BatchNorm's statistics stay FP32 in an FP16 model; its FP16 weights would need rounding
        var m16 = model(4).to(DType.FP16);
        Map<String, float[]> before16 = snapshot(m16);
        Map<String, Tensor> wrongDtype = Checkpoints.stateDict(model(5));
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadStateDict(m16, wrongDtype));
        assertEquals("loadStateDict: state does not fit Sequential (module left unchanged): '0.weight' is FP32[3, 4],"
                + " the model has FP16[3, 4] (FP32 to FP16 rounds); '0.bias' is FP32[3], the model has FP16[3] (FP32 to"
                + " FP16 rounds); '3.weight' is FP32[2, 3], the model has FP16[2, 3] (FP32 to FP16 rounds); '3.bias' is"
                + " FP32[2], the model has FP16[2] (FP32 to FP16 rounds). To round to nearest even, load with"
                + " LoadOptions.DEFAULT.withConversion(Conversion.ROUND).", e.getMessage());
        assertSameState(before16, snapshot(m16));
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

        Path nan = dir.resolve("nan.safetensors");
        var withNan = model(9);
        withNan.namedParameters().get("3.bias").value().fill_(Float.NaN);
        Checkpoints.save(withNan, nan, Map.of());
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(m, nan));
        assertTrue(e.getMessage().endsWith("'3.bias' holds NaN or infinite values."), e.getMessage());
        assertSameState(before, snapshot(m));

        assertThrows(NullPointerException.class, () -> Checkpoints.save(m, null, Map.of()));
        assertThrows(NullPointerException.class, () -> Checkpoints.loadStateDict(m, null));
    }

    /** A 16-bit value widened to FP32 by the JDK (exact). */
    private static float widen(DType dt, short bits) {
        return dt == DType.FP16 ? Float.float16ToFloat(bits) : Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * {@code v} rounded to nearest even in {@code dt}, as FP32: the JDK's {@code floatToFloat16} for
     * FP16; for BF16 the upper 16 bits after adding {@code 0x7FFF} plus the lowest kept bit (ties to
     * even), valid for the finite values used here.
     */
    private static float roundTo(DType dt, float v) {
        if (dt == DType.FP16) {
            return Float.float16ToFloat(Float.floatToFloat16(v));
        }
        int b = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat(((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16) << 16);
    }

    @Test
    void sixteenBitWeightsWidenIntoAnFp32ModelExactly() throws IOException {
        for (DType dt : new DType[] {DType.FP16, DType.BF16}) {
            var src = model(20).to(dt);
            Path f = dir.resolve("w-" + dt + ".safetensors");
            Checkpoints.save(src, f, Map.of());
            var dst = model(21);
            Checkpoints.load(dst, f);
            Map<String, Tensor> state = Checkpoints.stateDict(src);
            assertEquals(DType.FP32, dst.namedParameters().get("0.weight").dtype());
            Map<String, float[]> loaded = snapshot(dst);
            state.forEach((n, t) -> {
                float[] got = loaded.get(n);
                if (t.dtype() == DType.FP32) {
                    assertArrayEquals(t.toFloatArray(), got, n);
                    return;
                }
                short[] bits = t.shortData();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(widen(dt, bits[t.storageOffset() + i]), got[i], 0f, n + "[" + i + "]");
                }
            });
        }
    }

    @Test
    void roundingIsRefusedUnlessAskedAndThenRoundsToNearestEven() throws IOException {
        var src = model(22);
        // values between FP16 and BF16 neighbours, and one exactly halfway between two FP16 values
        // (1 + 2^-11: ties to even gives 1)
        src.namedParameters().get("0.weight").value().copy_(new float[] {
            0.1f, -0.3f, 1 + 0x1p-11f, 3.14159f, 1e-5f, -7.77f, 0.5f, 100.3f, -2e-3f, 0.999f, 12.5f, -0.0625f});
        Path f32 = dir.resolve("f32.safetensors");
        Checkpoints.save(src, f32, Map.of("epoch", "1"));
        Map<String, Tensor> srcState = Checkpoints.stateDict(src);
        for (DType dt : new DType[] {DType.FP16, DType.BF16}) {
            var dst = model(23).to(dt);
            Map<String, float[]> before = snapshot(dst);
            var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(dst, f32));
            assertTrue(e.getMessage().startsWith("load: " + f32 + " does not fit Sequential (module left unchanged): "
                    + "'0.weight' is FP32[3, 4], the model has " + dt + "[3, 4] (FP32 to " + dt + " rounds);"),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith("To round to nearest even, load with"
                    + " LoadOptions.DEFAULT.withConversion(Conversion.ROUND)."), e.getMessage());
            assertSameState(before, snapshot(dst));
            LoadResult r = Checkpoints.load(dst, f32, LoadOptions.DEFAULT.withConversion(Conversion.ROUND));
            assertEquals(List.of(), r.missingKeys());
            assertEquals(List.of(), r.unexpectedKeys());
            assertEquals(Map.of("epoch", "1"), r.metadata());
            Map<String, float[]> got = snapshot(dst);
            srcState.forEach((n, t) -> {
                float[] v = t.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    // Linear's slots are 16-bit; BatchNorm's stay FP32 and load unchanged
                    boolean sixteen = dst.namedParameters().containsKey(n)
                            && dst.namedParameters().get(n).dtype() == dt;
                    assertEquals(sixteen ? roundTo(dt, v[i]) : v[i], got.get(n)[i], 0f, dt + " " + n + "[" + i + "]");
                }
            });
            assertEquals(1f, got.get("0.weight")[2], "halfway rounds to even");
        }
        // FP16 <-> BF16: widened exactly, rounded once; an FP16 beyond BF16's precision and a BF16
        // beyond FP16's range
        var h = model(24).to(DType.FP16);
        h.namedParameters().get("3.bias").value().copy_(new float[] {1 + 0x1p-10f, -3 - 0x1p-9f});
        Map<String, Tensor> hs = Checkpoints.stateDict(h);
        var b = model(25).to(DType.BF16);
        Checkpoints.loadStateDict(b, hs, LoadOptions.DEFAULT.withConversion(Conversion.ROUND));
        float[] hb = hs.get("3.bias").toFloatArray();
        assertArrayEquals(new float[] {roundTo(DType.BF16, hb[0]), roundTo(DType.BF16, hb[1])},
                b.namedParameters().get("3.bias").value().toFloatArray());
        Map<String, Tensor> big = Checkpoints.stateDict(b);
        big.get("3.bias").fill_(1e5f);
        var back = model(26).to(DType.FP16);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoints.loadStateDict(back, big, LoadOptions.DEFAULT.withConversion(Conversion.ROUND)));
        assertTrue(e.getMessage().endsWith("'3.bias' holds NaN or infinite values after rounding BF16 to FP16."),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadStateDict(back, big));
        assertTrue(e.getMessage().contains("'3.bias' is BF16[2], the model has FP16[2] (BF16 to FP16 rounds)"),
                e.getMessage());
    }

    @Test
    void strictLoadListsEveryKeyProblemAndNonStrictReturnsThem() throws IOException {
        var m = model(30);
        Map<String, float[]> before = snapshot(m);
        // a checkpoint of another model: a prefix on every name (as a wrapper module gives)
        Map<String, Tensor> other = new LinkedHashMap<>();
        Checkpoints.stateDict(model(31)).forEach((n, t) -> other.put("model." + n, t));
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadStateDict(m, other));
        assertEquals("loadStateDict: state does not fit Sequential (module left unchanged): missing keys [0.weight,"
                + " 0.bias, 1.weight, 1.bias, 3.weight, 3.bias, 1.running_mean, 1.running_var]; unexpected keys"
                + " [model.0.weight, model.0.bias, model.1.weight, model.1.bias, model.3.weight, model.3.bias,"
                + " model.1.running_mean, model.1.running_var]. To load the matching keys and get the others back,"
                + " load with LoadOptions.DEFAULT.withStrict(false).",
                e.getMessage());
        assertSameState(before, snapshot(m));

        Map<String, Tensor> partial = Checkpoints.stateDict(model(32));
        partial.remove("3.bias");
        partial.remove("1.running_var");
        partial.put("head.weight", Tensor.ones(2, 2));
        LoadResult r = Checkpoints.loadStateDict(m, partial, LoadOptions.DEFAULT.withStrict(false));
        assertEquals(List.of("3.bias", "1.running_var"), r.missingKeys());
        assertEquals(List.of("head.weight"), r.unexpectedKeys());
        Map<String, float[]> after = snapshot(m);
        assertArrayEquals(partial.get("0.weight").toFloatArray(), after.get("0.weight"));
        assertArrayEquals(before.get("3.bias"), after.get("3.bias"), "a missing key keeps its value");
        assertArrayEquals(before.get("1.running_var"), after.get("1.running_var"));

        // shapes are checked in a non-strict load too (as PyTorch does), with the keys' problems
        partial.put("0.weight", Tensor.ones(4, 3));
        Map<String, float[]> mid = snapshot(m);
        e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoints.loadStateDict(m, partial, LoadOptions.DEFAULT.withStrict(false)));
        assertEquals("loadStateDict: state does not fit Sequential (module left unchanged): '0.weight' is FP32[4, 3],"
                + " the model has FP32[3, 4].", e.getMessage());
        assertSameState(mid, snapshot(m));

        // from a file: the unexpected tensors are skipped without being read
        Path f = dir.resolve("bigger.safetensors");
        var rng = new SplittableRandom(33);
        Checkpoints.save(new Sequential(new Linear(4, 3, rng), new BatchNorm1d(3), new ReLU(), new Linear(3, 2, rng),
                new Linear(2, 2, rng)), f, Map.of("k", "v"));
        var strict = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(m, f));
        assertTrue(strict.getMessage().startsWith("load: " + f + " does not fit Sequential (module left unchanged):"
                + " unexpected keys [4.weight, 4.bias]."), strict.getMessage());
        LoadResult fr = Checkpoints.load(m, f, LoadOptions.DEFAULT.withStrict(false));
        assertEquals(List.of(), fr.missingKeys());
        assertEquals(List.of("4.weight", "4.bias"), fr.unexpectedKeys());
        assertEquals(Map.of("k", "v"), fr.metadata());
        assertArrayEquals(Safetensors.read(f).tensor("3.bias").floats(), snapshot(m).get("3.bias"));
    }

    @Test
    void aMissingFileADirectoryAndAnUnreadableFileSayWhatToDo() throws IOException {
        var m = model(40);
        Path missing = dir.resolve("missing.safetensors");
        var e = assertThrows(NoSuchFileException.class, () -> Checkpoints.load(m, missing));
        assertEquals(missing + ": no such checkpoint file. Check the path, or save a checkpoint there first",
                e.getMessage());
        Path noDir = dir.resolve("runs").resolve("m.safetensors");
        e = assertThrows(NoSuchFileException.class, () -> Safetensors.read(noDir));
        assertEquals(noDir + ": no such checkpoint file; its directory " + noDir.getParent() + " does not exist"
                + " either. Check the path, or save a checkpoint there first", e.getMessage());
        Path relative = Path.of("no-such-dir-" + System.nanoTime(), "m.safetensors");
        e = assertThrows(NoSuchFileException.class, () -> Checkpoints.load(m, relative));
        assertEquals(relative + ": no such checkpoint file (resolved to " + relative.toAbsolutePath() + "); its"
                + " directory " + relative.toAbsolutePath().getParent() + " does not exist either. Check the path, or"
                + " save a checkpoint there first", e.getMessage());

        var d = assertThrows(FileSystemException.class, () -> Checkpoints.load(m, dir));
        assertEquals(dir + ": is a directory, not a safetensors file; name the checkpoint file itself", d.getMessage());

        Path locked = dir.resolve("locked.safetensors");
        Checkpoints.save(m, locked, Map.of());
        Files.setPosixFilePermissions(locked, Set.of());
        Assumptions.assumeFalse(Files.isReadable(locked), "the superuser reads any file");
        var a = assertThrows(AccessDeniedException.class, () -> Checkpoints.load(m, locked));
        assertEquals(locked + ": the checkpoint file exists but may not be read; check its permissions",
                a.getMessage());
    }
}
