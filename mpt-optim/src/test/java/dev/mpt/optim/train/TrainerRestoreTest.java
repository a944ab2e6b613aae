package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.BatchNorm1d;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.MasterWeights;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import dev.mpt.optim.scaling.LossScaler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Trainer#restore} is all-or-nothing: a file that does not fit the whole trainer (model,
 * masters, optimizer state, scaler, counters) or holds non-finite state changes no part of it.
 */
class TrainerRestoreTest {

    private static Trainer trainer(Module model) {
        return Trainer.builder(model).precision(Precision.MIXED_FP16).optimizer(new Adam(1e-2))
                .lossScaler(LossScaler.dynamicBuilder().initialScale(1024).growthInterval(2).build())
                .loss(Losses::crossEntropy).logEvery(0).build();
    }

    private static void train(Trainer t, int steps, long seed) {
        var rng = new SplittableRandom(seed);
        for (int s = 0; s < steps; s++) {
            Tensor x = TestModels.gaussian(rng, 8, 4);
            t.step(x, TestModels.labels(rng, 8, 3));
        }
    }

    /** Every bit of a trainer's state: weights, buffers, masters, moments, scaler, counters, generator. */
    private static List<String> state(Trainer t) {
        List<String> out = new ArrayList<>();
        t.model().namedParameters().forEach((n, p) -> out.add(n + " " + Arrays.toString(TestModels.rawBits(p.value()))));
        t.model().namedBuffers().forEach((n, b) -> out.add(n + " " + Arrays.toString(TestModels.rawBits(b.value()))));
        MasterWeights m = t.optimizer().masterWeights();
        for (String n : m.names()) {
            out.add("master " + n + " " + Arrays.toString(m.master(n)));
            for (String s : m.optimizer().stateNames()) {
                out.add(s + " " + n + " " + Arrays.toString(m.state(n, s)));
            }
        }
        out.add(t.optimizer().scaleHolder().scaler().toString());
        out.add(t.optimizer().appliedSteps() + " " + t.optimizer().attemptedSteps() + " " + t.random().state());
        return out;
    }

    @Test
    void aCheckpointOfALargerModelChangesNothing(@TempDir Path dir) throws IOException {
        var rng = new SplittableRandom(1);
        Trainer big = trainer(new Sequential(new Linear(4, 8, rng), new ReLU(), new Linear(8, 8, rng), new ReLU(),
                new Linear(8, 3, rng)));
        train(big, 5, 2);
        Path file = dir.resolve("big.safetensors");
        big.save(file);

        var rng2 = new SplittableRandom(3);
        Trainer small = trainer(new Sequential(new Linear(4, 8, rng2), new ReLU(), new Linear(8, 8, rng2)));
        train(small, 3, 4);
        List<String> before = state(small);
        var e = assertThrows(IllegalArgumentException.class, () -> small.restore(file));
        assertTrue(e.getMessage().contains("4.weight"), e.getMessage());
        assertEquals(before, state(small), "a refused restore changes no part of the trainer");
    }

    /**
     * A trainer checkpoint with one more F32 tensor of 2^31 - 9 elements (8 GiB) whose data is a
     * hole of a sparse file: restore must refuse it from the header, before reading any data.
     */
    @Test
    void aFileWithAHugeExtraTensorIsRefusedFromItsHeader(@TempDir Path dir) throws IOException {
        var rng = new SplittableRandom(5);
        Trainer t = trainer(new Sequential(new Linear(4, 8, rng), new ReLU(), new Linear(8, 3, rng)));
        train(t, 2, 6);
        Path saved = dir.resolve("saved.safetensors");
        t.save(saved);
        List<String> before = state(t);
        long huge = Integer.MAX_VALUE - 8;
        Path sparse = withHole(Safetensors.read(saved), dir.resolve("sparse.safetensors"), "optim.extra", huge);
        assertTrue(java.nio.file.Files.size(sparse) > 8_000_000_000L);
        var e = assertThrows(IllegalArgumentException.class, () -> t.restore(sparse));
        assertTrue(e.getMessage().contains(sparse.toString()) && e.getMessage().contains("unexpected tensor 'optim.extra'"),
                e.getMessage());
        assertEquals(before, state(t), "a refused restore changes no part of the trainer");
    }

    /** Writes {@code f}'s tensors and metadata plus an F32 tensor {@code extra} of {@code numel} elements left as a hole. */
    private static Path withHole(SafetensorsFile f, Path to, String extra, long numel) throws IOException {
        StringBuilder json = new StringBuilder("{");
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        long offset = 0;
        for (NamedTensor nt : f.tensors()) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) nt.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            if (nt.dtype() == DType.FP32) {
                b.asFloatBuffer().put(nt.floats());
            } else {
                b.asShortBuffer().put(nt.bits());
            }
            data.write(b.array());
            json.append('"').append(nt.name()).append("\":{\"dtype\":\"").append(Safetensors.dtypeName(nt.dtype()))
                    .append("\",\"shape\":").append(Arrays.toString(nt.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + nt.byteSize()).append("]},");
            offset += nt.byteSize();
        }
        json.append('"').append(extra).append("\":{\"dtype\":\"F32\",\"shape\":[").append(numel)
                .append("],\"data_offsets\":[").append(offset).append(',').append(offset + 4 * numel).append("]},");
        json.append('"').append(Safetensors.METADATA_KEY).append("\":{");
        String sep = "";
        for (Map.Entry<String, String> m : f.metadata().entrySet()) {
            json.append(sep).append('"').append(m.getKey()).append("\":\"").append(m.getValue()).append('"');
            sep = ",";
        }
        json.append("}}");
        while (json.length() % 8 != 0) {
            json.append(' ');
        }
        byte[] h = json.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(to.toFile(), "rw")) {
            raf.write(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            raf.write(data.toByteArray());
            raf.setLength(8 + h.length + offset + 4 * numel);
        }
        return to;
    }

    private static Trainer withBatchNorm(long seed) {
        var rng = new SplittableRandom(seed);
        return trainer(new Sequential(new Linear(4, 8, rng), new BatchNorm1d(8), new ReLU(), new Linear(8, 3, rng)));
    }

    /** Writes {@code from} with tensor {@code name}'s element 1 replaced by NaN. */
    private static Path poisoned(Path from, Path to, String name) {
        try {
            return write(Safetensors.read(from), to, name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path write(SafetensorsFile f, Path to, String name) throws IOException {
        List<NamedTensor> out = new ArrayList<>();
        for (NamedTensor t : f.tensors()) {
            if (!t.name().equals(name)) {
                out.add(t);
            } else if (t.dtype() == DType.FP32) {
                float[] v = t.floats().clone();
                v[1] = Float.NaN;
                out.add(NamedTensor.ofFloats(name, t.shape(), v));
            } else {
                short[] v = t.bits().clone();
                v[1] = (short) 0x7e00;                     // FP16 NaN
                out.add(NamedTensor.ofBits(name, t.dtype(), t.shape(), v));
            }
        }
        Safetensors.write(to, out, f.metadata());
        return to;
    }

    @Test
    void nonFiniteWeightsMastersMomentsAndStatisticsAreRefusedByName(@TempDir Path dir) throws IOException {
        Trainer a = withBatchNorm(5);
        train(a, 4, 6);
        Path file = dir.resolve("a.safetensors");
        a.save(file);
        Trainer b = withBatchNorm(7);
        train(b, 2, 8);
        List<String> before = state(b);
        // file tensor -> the parameter or buffer the message must name
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("model.0.weight", "0.weight");                       // FP16 weight
        cases.put("model.1.running_var", "1.running_var");             // BatchNorm statistic
        cases.put("optim.master.3.weight", "3.weight");                // FP32 master
        cases.put("optim.state.0.bias.exp_avg", "0.bias");             // Adam moments
        cases.put("optim.state.1.weight.exp_avg_sq", "1.weight");
        cases.forEach((name, named) -> {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> b.restore(poisoned(file, dir.resolve("bad.safetensors"), name)), name);
            assertTrue(e.getMessage().contains("'" + named + "'") && e.getMessage().contains("NaN"),
                    name + ": " + e.getMessage());
            assertEquals(before, state(b), name + ": a refused restore changes no part of the trainer");
        });
        b.restore(file);                                    // the clean file still restores
        assertEquals(state(a), state(b));
    }
}
