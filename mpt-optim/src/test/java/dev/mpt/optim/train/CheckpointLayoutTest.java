package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer checkpoint's on-disk names stay those of format {@code mpt-trainer-checkpoint-1}, so
 * files written by earlier versions still restore. The expected names below were listed from the
 * writer as it was when the layout was defined ({@code Trainer.save}, {@code AmpOptimizer.writeState},
 * {@code MasterWeights.tensors}, {@code LossScaleState.toMap}), not from the current code.
 */
class CheckpointLayoutTest {

    private static final Set<String> METADATA_KEYS = Set.of("format", "precision", "rng.state", "lr.factor",
            "optim.appliedSteps", "optim.attemptedSteps", "optim.optimizer", "optim.precision",
            "optim.scaler.scale", "optim.scaler.cleanSteps", "optim.scaler.hysteresisLeft",
            "optim.scaler.skippedSteps", "optim.scaler.atMinimumOverflowing",
            // added later (per-parameter step counts); files without them still restore
            "optim.steps.1.weight", "optim.steps.1.bias", "optim.steps.3.weight", "optim.steps.3.bias");

    private static Trainer stepped(Precision precision, Optimizer optimizer) {
        Trainer t = Trainer.builder(TestModels.mlp(4, 3, 2, 1)).precision(precision).optimizer(optimizer)
                .loss(Losses::crossEntropy).logEvery(0).build();
        t.step(Tensor.of(new float[] {1, 2, 3, 4, 4, 3, 2, 1}, 2, 4), new int[] {0, 1});
        return t;
    }

    private static Set<String> names(SafetensorsFile f) {
        Set<String> out = new TreeSet<>();
        for (NamedTensor t : f.tensors()) {
            out.add(t.name() + ":" + t.dtype());
        }
        return out;
    }

    @Test
    void mixedFp16WithMomentumKeepsTheFormat1Names(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("c.safetensors");
        stepped(Precision.MIXED_FP16, new Sgd(0.1, 0.9)).save(file);
        SafetensorsFile f = Safetensors.read(file);
        assertEquals(new TreeSet<>(METADATA_KEYS), new TreeSet<>(f.metadata().keySet()));
        assertEquals("mpt-trainer-checkpoint-1", f.metadata().get("format"));
        assertEquals("MIXED_FP16", f.metadata().get("optim.precision"));
        Set<String> expected = new TreeSet<>();
        for (String p : List.of("1.weight", "1.bias", "3.weight", "3.bias")) {
            expected.add("model." + p + ":" + DType.FP16);
            expected.add("optim.master." + p + ":" + DType.FP32);
            expected.add("optim.state." + p + ".momentum:" + DType.FP32);
        }
        assertEquals(expected, names(f));
    }

    @Test
    void fp32WithAdamHasNoMastersAndPyTorchStateNames(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("c.safetensors");
        stepped(Precision.FP32, new Adam(1e-3)).save(file);
        SafetensorsFile f = Safetensors.read(file);
        assertEquals(new TreeSet<>(METADATA_KEYS), new TreeSet<>(f.metadata().keySet()));
        Set<String> expected = new TreeSet<>();
        for (String p : List.of("1.weight", "1.bias", "3.weight", "3.bias")) {
            expected.add("model." + p + ":" + DType.FP32);
            expected.add("optim.state." + p + ".exp_avg:" + DType.FP32);
            expected.add("optim.state." + p + ".exp_avg_sq:" + DType.FP32);
        }
        assertEquals(expected, names(f));
        Map<String, String> m = f.metadata();
        assertEquals("1", m.get("optim.appliedSteps"));
        assertEquals("1", m.get("optim.attemptedSteps"));
        assertEquals("1.0", m.get("optim.scaler.scale"));
    }
}
