package dev.mpt.optim.train;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Buffer;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.checkpoint.Checkpoints;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The file a {@link Trainer} saves and restores (safetensors, replaced atomically): tensors
 * {@code model.<name>} (parameters in their dtype, buffers FP32) and the optimizer's under prefix
 * {@code optim.} ({@link OptimizerCheckpoint}: {@code optim.master.<name>},
 * {@code optim.state.<name>.<state>}); metadata {@code format} ({@link Trainer#CHECKPOINT_FORMAT}),
 * {@code precision}, {@code rng.state}, and the optimizer's {@code optim.appliedSteps},
 * {@code optim.attemptedSteps}, {@code optim.optimizer}, {@code optim.precision},
 * {@code optim.scaler.*}.
 */
final class TrainerCheckpoint {

    private static final String MODEL = "model.";
    private static final String OPTIM = "optim.";

    private TrainerCheckpoint() {
    }

    /** Writes {@code trainer}'s full state to {@code file}. */
    static void write(Trainer trainer, Path file) throws IOException {
        List<NamedTensor> tensors = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", Trainer.CHECKPOINT_FORMAT);
        meta.put("precision", trainer.precision().name());
        meta.put("rng.state", Long.toString(trainer.random().state()));
        Map<String, Tensor> state = new LinkedHashMap<>();
        Checkpoints.stateDict(trainer.model()).forEach((n, t) -> state.put(MODEL + n, t));
        tensors.addAll(Checkpoints.toNamedTensors(state));
        OptimizerCheckpoint.write(OPTIM, trainer.optimizer(), tensors, meta);
        Safetensors.write(file, tensors, meta);
    }

    /**
     * Restores what {@link #write} wrote into {@code trainer}; nothing changes when the file does
     * not match.
     */
    static void read(Trainer trainer, Path file) throws IOException {
        SafetensorsFile f = Safetensors.read(file);
        Map<String, String> meta = f.metadata();
        if (!Trainer.CHECKPOINT_FORMAT.equals(meta.get("format"))) {
            throw new IllegalArgumentException("Trainer.restore: " + file + " is not a trainer checkpoint (format '"
                    + meta.get("format") + "', expected '" + Trainer.CHECKPOINT_FORMAT + "')");
        }
        if (!trainer.precision().name().equals(meta.get("precision"))) {
            throw new IllegalArgumentException("Trainer.restore: checkpoint precision " + meta.get("precision")
                    + " differs from this trainer's " + trainer.precision());
        }
        long rng;
        try {
            rng = Long.parseLong(String.valueOf(meta.get("rng.state")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Trainer.restore: rng.state is missing or not a long: "
                    + meta.get("rng.state"), e);
        }
        Module model = trainer.model();
        // Check the model part first, so that nothing changes unless every part fits.
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            check(f.tensor(MODEL + e.getKey()), e.getValue().value());
        }
        for (Map.Entry<String, Buffer> e : model.namedBuffers().entrySet()) {
            check(f.tensor(MODEL + e.getKey()), e.getValue().value());
        }
        List<NamedTensor> modelTensors = new ArrayList<>();
        for (NamedTensor t : f.tensors()) {
            if (t.name().startsWith(MODEL)) {
                modelTensors.add(new NamedTensor(t.name().substring(MODEL.length()), t.dtype(), t.shape(), t.floats(),
                        t.bits()));
            }
        }
        Map<String, Tensor> state = Checkpoints.toTensors(modelTensors);
        OptimizerCheckpoint.read(OPTIM, f, trainer.optimizer());   // checks its part, then restores it
        Checkpoints.loadStateDict(model, state);                    // copies into the existing storage
        trainer.random().setState(rng);
    }

    private static void check(NamedTensor t, Tensor target) {
        if (t.dtype() != target.dtype() || !Arrays.equals(t.shape(), target.shape())) {
            throw new IllegalArgumentException("Trainer.restore: tensor '" + t.name() + "' is " + t.dtype()
                    + Arrays.toString(t.shape()) + ", the model has " + target.dtype() + Arrays.toString(target.shape()));
        }
    }
}
