package dev.mpt.optim.train;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
