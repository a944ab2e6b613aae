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
