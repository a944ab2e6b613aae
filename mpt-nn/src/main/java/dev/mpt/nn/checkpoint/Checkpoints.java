package dev.mpt.nn.checkpoint;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A module's state (every parameter and buffer, by dotted name, in its own dtype) as a map and as
 * a safetensors file:
 *
 * <pre>{@code
 * Checkpoints.save(model, Path.of("model.safetensors"), Map.of("epoch", "3"));
 * Map<String, String> meta = Checkpoints.load(model, Path.of("model.safetensors"));
 * }</pre>
 *
 * <p>Loading is all-or-nothing: every name, shape and dtype is checked before the first value is
 * written, so a file or map that does not fit leaves the model unchanged. Values are copied into
 * the existing tensors' storage, so references held elsewhere (an optimizer's) stay valid.
 * Training checkpoints that add optimizer state use the map form ({@link #stateDict},
 * {@link #toNamedTensors}, {@link #toTensors}) with their own name prefixes.
 */
public final class Checkpoints {

    private Checkpoints() {
    }

    /**
     * A copy of {@code module}'s parameters then buffers, by dotted name in registration order;
     * each tensor is a detached contiguous copy in the slot's dtype.
     */
    public static Map<String, Tensor> stateDict(Module module) {
        Objects.requireNonNull(module, "stateDict: module");
        Map<String, Tensor> out = new LinkedHashMap<>();
        module.namedParameters().forEach((n, p) -> out.put(n, copy(p.value())));
        module.namedBuffers().forEach((n, b) -> out.put(n, copy(b.value())));
        return out;
    }

    private static Tensor copy(Tensor t) {
        return Tensor.zeros(t.dtype(), t.shape()).copy_(t);
    }

    /**
     * Copies {@code state} into {@code module}'s parameters and buffers, after
     * {@link #checkStateDict} found that it fits; nothing is written otherwise.
     *
     * @throws IllegalArgumentException listing missing and unexpected keys, every shape or dtype
     *                                  mismatch and every tensor holding NaN or infinity; the module
     *                                  is then unchanged
     */
    public static void loadStateDict(Module module, Map<String, Tensor> state) {
        checkStateDict("loadStateDict", module, state);
        try (NoGrad scope = NoGrad.enter()) {
            module.namedParameters().forEach((n, p) -> p.value().copy_(state.get(n)));
            module.namedBuffers().forEach((n, b) -> b.value().copy_(state.get(n)));
        }
    }

    /**
     * Checks that {@code state} fits {@code module} without changing anything: every key names a
     * parameter or buffer, every parameter and buffer has a key, each tensor has the slot's shape
     * and dtype, and every value is finite (a NaN or infinite weight or running statistic is never
     * a state to resume from). Callers that restore more than the module (a trainer's checkpoint)
     * run it before changing any part.
     *
     * @param op the operation named at the start of the message
     * @throws IllegalArgumentException listing missing and unexpected keys, every shape or dtype
     *                                  mismatch and every tensor holding NaN or infinity
     */
    public static void checkStateDict(String op, Module module, Map<String, Tensor> state) {
        Objects.requireNonNull(op, "checkStateDict: op");
        Objects.requireNonNull(module, op + ": module");
        Objects.requireNonNull(state, op + ": state");
        Map<String, Slot> given = new LinkedHashMap<>();
        state.forEach((n, t) -> given.put(n, t == null ? null : new Slot(t.dtype(), t.shape())));
        checkFits(module, given, state, op + ": state");
    }

    /** A dtype and shape, as a state tensor or a file's header declares them. */
    private record Slot(DType dtype, int[] shape) {
    }

    /**
     * Checks that {@code given} names exactly {@code module}'s parameters and buffers, each with the
     * slot's dtype and shape ({@code null} values are reported too), and, where {@code values} is
     * not null, that each fitting value is finite.
     *
     * @throws IllegalArgumentException listing missing and unexpected keys and every mismatch
     */
    private static void checkFits(Module module, Map<String, Slot> given, Map<String, Tensor> values, String what) {
        Map<String, Tensor> targets = new LinkedHashMap<>();
        module.namedParameters().forEach((n, p) -> targets.put(n, p.value()));
        module.namedBuffers().forEach((n, b) -> targets.put(n, b.value()));
        List<String> problems = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String n : targets.keySet()) {
            if (!given.containsKey(n)) {
                missing.add(n);
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (Map.Entry<String, Slot> e : given.entrySet()) {
            Tensor target = targets.get(e.getKey());
            if (target == null) {
                unexpected.add(e.getKey());
                continue;
            }
            Slot v = e.getValue();
            if (v == null) {
                problems.add("'" + e.getKey() + "' is null");
            } else if (!Arrays.equals(v.shape(), target.shape()) || v.dtype() != target.dtype()) {
                problems.add("'" + e.getKey() + "' is " + v.dtype() + Arrays.toString(v.shape()) + ", the model has "
                        + target.dtype() + Arrays.toString(target.shape()));
            } else if (values != null && !values.get(e.getKey()).allFinite()) {
                problems.add("'" + e.getKey() + "' holds NaN or infinite values");
            }
        }
        if (!missing.isEmpty()) {
            problems.add(0, "missing keys " + missing);
        }
        if (!unexpected.isEmpty()) {
            problems.add(missing.isEmpty() ? 0 : 1, "unexpected keys " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(what + " does not fit " + module.getClass().getSimpleName()
                    + " (module left unchanged): " + String.join("; ", problems));
        }
    }

    /** The tensors of {@code state} as safetensors entries, in the map's order (copies of the data). */
    public static List<NamedTensor> toNamedTensors(Map<String, Tensor> state) {
        Objects.requireNonNull(state, "toNamedTensors: state");
        List<NamedTensor> out = new ArrayList<>(state.size());
        state.forEach((n, t) -> {
            Objects.requireNonNull(t, () -> "toNamedTensors: tensor '" + n + "'");
            Tensor c = t.contiguous();
            if (t.dtype() == DType.FP32) {
                out.add(NamedTensor.ofFloats(n, t.shape(), c.toFloatArray()));
            } else {
                short[] bits = Arrays.copyOfRange(c.shortData(), c.storageOffset(), c.storageOffset() + c.numel());
                out.add(NamedTensor.ofBits(n, t.dtype(), t.shape(), bits));
            }
        });
        return out;
    }

    /** Safetensors entries as tensors by name, in the list's order (copies, in each entry's dtype). */
    public static Map<String, Tensor> toTensors(List<NamedTensor> tensors) {
        Objects.requireNonNull(tensors, "toTensors: tensors");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (NamedTensor nt : tensors) {
            Objects.requireNonNull(nt, "toTensors: entry");
            Tensor t;
            if (nt.dtype() == DType.FP32) {
                t = Tensor.of(nt.floats(), nt.shape());
            } else {
                t = Tensor.zeros(nt.dtype(), nt.shape());
                System.arraycopy(nt.bits(), 0, t.shortData(), 0, nt.numel());
            }
            if (out.put(nt.name(), t) != null) {
                throw new IllegalArgumentException("toTensors: duplicate name '" + nt.name() + "'");
            }
        }
        return out;
    }

    /**
     * Writes {@code module}'s state and {@code metadata} to {@code file} in safetensors format,
     * replacing the file atomically.
     */
    public static void save(Module module, Path file, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(file, "save: file");
        Objects.requireNonNull(metadata, "save: metadata");
        Safetensors.write(file, toNamedTensors(stateDict(module)), metadata);
    }

    /**
     * Loads {@code file} into {@code module} as {@link #loadStateDict} does and returns the file's
     * metadata. The header's names, dtypes and shapes are checked against the module first, so a
     * file that does not fit is rejected without reading (or allocating) any of its tensor data.
     *
     * @throws IOException              when the file is unreadable, truncated or malformed
     * @throws IllegalArgumentException when its tensors do not fit the module (the message names the
     *                                  file; either way the module is unchanged)
     */
    public static Map<String, String> load(Module module, Path file) throws IOException {
        Objects.requireNonNull(module, "load: module");
        Objects.requireNonNull(file, "load: file");
        try (SafetensorsReader r = Safetensors.open(file)) {
            Map<String, Slot> declared = new LinkedHashMap<>();
            for (String n : r.names()) {
                declared.put(n, new Slot(r.dtype(n), r.shape(n)));
            }
            checkFits(module, declared, null, "load: " + file);
            List<NamedTensor> tensors = new ArrayList<>(declared.size());
            for (String n : declared.keySet()) {
                tensors.add(r.read(n));
            }
            loadStateDict(module, toTensors(tensors));
            return r.metadata();
        }
    }
}
