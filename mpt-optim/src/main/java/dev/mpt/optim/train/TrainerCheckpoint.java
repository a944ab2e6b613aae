package dev.mpt.optim.train;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.checkpoint.Checkpoints;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import dev.mpt.nn.checkpoint.SafetensorsReader;
import dev.mpt.optim.amp.ParameterState;
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
 * {@code precision}, {@code rng.state}, {@code lr.factor} ({@link Trainer#learningRateFactor()}; a
 * file without it restores the factor 1), and the optimizer's {@code optim.appliedSteps},
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
        meta.put("lr.factor", Double.toString(trainer.learningRateFactor()));
        Map<String, Tensor> state = new LinkedHashMap<>();
        Checkpoints.stateDict(trainer.model()).forEach((n, t) -> state.put(MODEL + n, t));
        tensors.addAll(Checkpoints.toNamedTensors(state));
        OptimizerCheckpoint.write(OPTIM, trainer.optimizer(), tensors, meta);
        Safetensors.write(file, tensors, meta);
    }

    /**
     * Restores what {@link #write} wrote into {@code trainer}; nothing changes when the file does
     * not match. The header is checked first (format, precision, and every tensor's name, dtype and
     * shape against the model and the optimizer), so a file that does not fit is refused before
     * any tensor data is read or allocated.
     */
    static void read(Trainer trainer, Path file) throws IOException {
        SafetensorsFile f;
        long rng;
        double lrFactor;
        try (SafetensorsReader r = Safetensors.open(file)) {
            Map<String, String> meta = r.metadata();
            if (!Trainer.CHECKPOINT_FORMAT.equals(meta.get("format"))) {
                throw new IllegalArgumentException("Trainer.restore: " + file + " is not a trainer checkpoint (format '"
                        + meta.get("format") + "', expected '" + Trainer.CHECKPOINT_FORMAT + "')");
            }
            if (!trainer.precision().name().equals(meta.get("precision"))) {
                throw new IllegalArgumentException("Trainer.restore: checkpoint precision " + meta.get("precision")
                        + " differs from this trainer's " + trainer.precision());
            }
            try {
                rng = Long.parseLong(String.valueOf(meta.get("rng.state")));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Trainer.restore: rng.state is missing or not a long: "
                        + meta.get("rng.state"), e);
            }
            lrFactor = lrFactor(meta.get("lr.factor"));
            checkHeader(trainer, r);
            f = r.readAll();
        }
        Map<String, Tensor> state = Checkpoints.toTensors(modelTensors(f));
        // Every part is checked before any is changed: the model's names, dtypes, shapes and
        // finiteness here, the optimizer's (masters, moments, counts, scaler) inside its restore,
        // which changes nothing when it throws; the model is written only after both passed.
        Checkpoints.checkStateDict("Trainer.restore", trainer.model(), state);
        OptimizerCheckpoint.read(OPTIM, f, trainer.optimizer());
        Checkpoints.loadStateDict(trainer.model(), state);
        trainer.random().setState(rng);
        trainer.setLearningRateFactor(lrFactor);
    }

    /** The learning-rate factor of the metadata: 1 when absent (files from before it existed). */
    private static double lrFactor(String text) {
        if (text == null) {
            return 1;
        }
        double f;
        try {
            f = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Trainer.restore: lr.factor is not a number: " + text, e);
        }
        if (!(f > 0) || !Double.isFinite(f)) {
            throw new IllegalArgumentException("Trainer.restore: lr.factor must be finite and > 0, got " + text);
        }
        return f;
    }

    /**
     * Refuses a header that lacks a tensor of this trainer, declares one it has no slot for, or
     * declares one with another dtype or shape than its slot's.
     */
    private static void checkHeader(Trainer trainer, SafetensorsReader r) {
        Map<String, Slot> slots = new LinkedHashMap<>();
        trainer.model().namedParameters().forEach((n, p) -> slots.put(MODEL + n, new Slot(p.value().dtype(),
                p.value().shape())));
        trainer.model().namedBuffers().forEach((n, b) -> slots.put(MODEL + n, new Slot(b.value().dtype(),
                b.value().shape())));
        for (ParameterState ps : trainer.optimizer().masterWeights().snapshot()) {
            Slot fp32 = new Slot(DType.FP32, ps.shape());
            if (ps.master() != null) {
                slots.put(OPTIM + "master." + ps.name(), fp32);
            }
            ps.optimizerState().keySet().forEach(k -> slots.put(OPTIM + "state." + ps.name() + "." + k, fp32));
        }
        List<String> problems = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String n : slots.keySet()) {
            if (!r.contains(n)) {
                missing.add(n);
            }
        }
        if (!missing.isEmpty()) {
            problems.add("missing tensors " + missing);
        }
        for (String n : r.names()) {
            Slot slot = slots.get(n);
            if (slot == null) {
                problems.add("unexpected tensor '" + n + "'");
            } else if (r.dtype(n) != slot.dtype() || !Arrays.equals(r.shape(n), slot.shape())) {
                problems.add("'" + n + "' is " + r.dtype(n) + Arrays.toString(r.shape(n)) + ", this trainer has "
                        + slot.dtype() + Arrays.toString(slot.shape()));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Trainer.restore: " + r.file() + " does not fit this trainer (nothing "
                    + "was changed): " + String.join("; ", problems));
        }
    }

    /** A tensor's dtype and shape, as the trainer holds it. */
    private record Slot(DType dtype, int[] shape) {
    }

    /** The tensors under {@code model.}, renamed without the prefix. */
    private static List<NamedTensor> modelTensors(SafetensorsFile f) {
        List<NamedTensor> out = new ArrayList<>();
        for (NamedTensor t : f.tensors()) {
            if (t.name().startsWith(MODEL)) {
                out.add(new NamedTensor(t.name().substring(MODEL.length()), t.dtype(), t.shape(), t.floats(),
                        t.bits()));
            }
        }
        return out;
    }
}
