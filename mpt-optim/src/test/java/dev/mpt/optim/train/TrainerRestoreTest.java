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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
            float[] x = new float[8 * 4];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextGaussian();
            }
            int[] y = new int[8];
            for (int i = 0; i < y.length; i++) {
                y[i] = rng.nextInt(3);
            }
            t.step(Tensor.of(x, 8, 4), y);
        }
    }

    /** Every bit of a trainer's state: weights, buffers, masters, moments, scaler, counters, generator. */
    private static List<String> state(Trainer t) {
        List<String> out = new ArrayList<>();
        t.model().namedParameters().forEach((n, p) -> out.add(n + " " + java.util.Arrays.toString(TestModels.rawBits(p.value()))));
        t.model().namedBuffers().forEach((n, b) -> out.add(n + " " + java.util.Arrays.toString(TestModels.rawBits(b.value()))));
        MasterWeights m = t.optimizer().masterWeights();
        for (String n : m.names()) {
            out.add("master " + n + " " + java.util.Arrays.toString(m.master(n)));
            for (String s : m.optimizer().stateNames()) {
                out.add(s + " " + n + " " + java.util.Arrays.toString(m.state(n, s)));
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
}
