package dev.mpt.nn.checkpoint;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

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
 * written, so a file or map that does not fit leaves the model unchanged, and one message lists
 * every problem (all missing and unexpected keys, every shape mismatch, every dtype that would need
 * rounding). Values are copied into the existing tensors' storage, so references held elsewhere
 * (an optimizer's) stay valid. {@link LoadOptions} choose, as PyTorch's {@code load_state_dict}
 * does, a non-strict load that returns the missing and unexpected keys instead of refusing them,
 * and which dtype differences are converted ({@link Conversion}): by default only exact widenings
 * (FP16 or BF16 weights into an FP32 model); rounding (FP32 into an FP16 model) when asked:
 *
 * <pre>{@code
 * LoadResult r = Checkpoints.load(model, path, LoadOptions.DEFAULT.withStrict(false)
 *         .withConversion(Conversion.ROUND));
 * r.missingKeys(); r.unexpectedKeys();
 * }</pre>
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
     * Copies {@code state} into {@code module}'s parameters and buffers with
     * {@link LoadOptions#DEFAULT} (strict; FP16 and BF16 widened into FP32 slots, no rounding),
     * after {@link #checkStateDict} found that it fits; nothing is written otherwise.
     *
     * @throws IllegalArgumentException listing all missing and unexpected keys, every shape
     *                                  mismatch, every dtype that would need rounding and every
     *                                  tensor holding NaN or infinity; the module is then unchanged
     */
    public static void loadStateDict(Module module, Map<String, Tensor> state) {
        loadStateDict(module, state, LoadOptions.DEFAULT);
    }

    /**
     * Copies {@code state} into {@code module}'s parameters and buffers as {@code options} say
     * (strict or not, which dtype conversions), each value converted to its slot's dtype (rounded
     * once to nearest even where {@link Conversion#ROUND} allows it). Everything is checked before
     * the first value is written.
     *
     * @return the missing and unexpected keys (both empty after a strict load); empty metadata
     * @throws IllegalArgumentException listing, in one message, the missing and unexpected keys
     *                                  (when strict), every shape mismatch, every dtype difference
     *                                  {@code options} do not allow (with the option that allows it)
     *                                  and every tensor holding NaN or infinity after conversion; the
     *                                  module is then unchanged
     */
    public static LoadResult loadStateDict(Module module, Map<String, Tensor> state, LoadOptions options) {
        return apply("loadStateDict: state", module, state, options, Map.of());
    }

    /**
     * Checks that {@code state} fits {@code module} under {@link LoadOptions#DEFAULT} without
     * changing anything: every key names a parameter or buffer, every parameter and buffer has a
     * key, each tensor has the slot's shape and its dtype or one that widens exactly into it, and
     * every value is finite (a NaN or infinite weight or running statistic is never a state to
     * resume from). Callers that restore more than the module (a trainer's checkpoint) run it
     * before changing any part.
     *
     * @param op the operation named at the start of the message
     * @throws IllegalArgumentException listing missing and unexpected keys, every shape or dtype
     *                                  mismatch and every tensor holding NaN or infinity
     */
    public static void checkStateDict(String op, Module module, Map<String, Tensor> state) {
        Objects.requireNonNull(op, "checkStateDict: op");
        convertAll(op + ": state", module, state, LoadOptions.DEFAULT, null);
    }

    /** A dtype and shape, as a state tensor or a file's header declares them. */
    private record Slot(DType dtype, int[] shape) {
    }

    /** The keys a state lacks and the keys it has beyond the module's. */
    private record Match(List<String> missing, List<String> unexpected) {
    }

    /** The module's parameters then buffers, by dotted name. */
    private static Map<String, Tensor> targets(Module module) {
        Map<String, Tensor> targets = new LinkedHashMap<>();
        module.namedParameters().forEach((n, p) -> targets.put(n, p.value()));
        module.namedBuffers().forEach((n, b) -> targets.put(n, b.value()));
        return targets;
    }

    /**
     * Checks the state's {@code given} names, dtypes and shapes against {@code module}'s slots
     * under {@code options} and, where {@code values} is not null, that each fitting value is finite
     * after conversion; returns the converted values of the matching keys through {@code converted}
     * when it is not null.
     *
     * @throws IllegalArgumentException listing every problem in one message
     */
    private static Match check(Module module, Map<String, Slot> given, Map<String, Tensor> values,
                               LoadOptions options, String what, Map<String, Tensor> converted) {
        Map<String, Tensor> targets = targets(module);
        List<String> problems = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String n : targets.keySet()) {
            if (!given.containsKey(n)) {
                missing.add(n);
            }
        }
        List<String> unexpected = new ArrayList<>();
        boolean rounding = false;
        for (Map.Entry<String, Slot> e : given.entrySet()) {
            String n = e.getKey();
            Tensor target = targets.get(n);
            if (target == null) {
                unexpected.add(n);
                continue;
            }
            Slot v = e.getValue();
            if (v == null) {
                problems.add("'" + n + "' is null");
            } else if (!Arrays.equals(v.shape(), target.shape())) {
                problems.add("'" + n + "' is " + v.dtype() + Arrays.toString(v.shape()) + ", the model has "
                        + target.dtype() + Arrays.toString(target.shape()));
            } else if (!options.conversion().allows(v.dtype(), target.dtype())) {
                problems.add("'" + n + "' is " + v.dtype() + Arrays.toString(v.shape()) + ", the model has "
                        + target.dtype() + Arrays.toString(target.shape()) + " (" + v.dtype() + " to "
                        + target.dtype() + " rounds)");
                rounding = true;
            } else if (values != null) {
                Tensor t = values.get(n);
                Tensor c = t.dtype() == target.dtype() ? t : t.detach().to(target.dtype());
                if (!c.allFinite()) {
                    problems.add("'" + n + "' holds NaN or infinite values" + (c == t ? ""
                            : " after rounding " + t.dtype() + " to " + target.dtype()));
                } else if (converted != null) {
                    converted.put(n, c);
                }
            }
        }
        if (options.strict() && !missing.isEmpty()) {
            problems.add(0, "missing keys " + missing);
        }
        if (options.strict() && !unexpected.isEmpty()) {
            problems.add(missing.isEmpty() ? 0 : 1, "unexpected keys " + unexpected);
        }
        if (!problems.isEmpty()) {
            StringBuilder how = new StringBuilder();
            if (rounding) {
                how.append(" To round to nearest even, load with");
                how.append(" LoadOptions.DEFAULT.withConversion(Conversion.ROUND).");
            }
            if (options.strict() && (!missing.isEmpty() || !unexpected.isEmpty())) {
                how.append(" To load the matching keys and get the others back, load with"
                        + " LoadOptions.DEFAULT.withStrict(false).");
            }
            throw new IllegalArgumentException(what + " does not fit " + module.getClass().getSimpleName()
                    + " (module left unchanged): " + String.join("; ", problems) + "." + how);
        }
        return new Match(missing, unexpected);
    }

    private static Map<String, Slot> slots(Map<String, Tensor> state) {
        Map<String, Slot> given = new LinkedHashMap<>();
        state.forEach((n, t) -> given.put(n, t == null ? null : new Slot(t.dtype(), t.shape())));
        return given;
    }

    /**
     * Checks {@code state} against {@code module} and puts its matching values, converted to their
     * slots' dtypes, into {@code converted}.
     */
    private static Match convertAll(String what, Module module, Map<String, Tensor> state, LoadOptions options,
                                    Map<String, Tensor> converted) {
        Objects.requireNonNull(module, what + ": module");
        Objects.requireNonNull(state, what);
        Objects.requireNonNull(options, what + ": options");
        return check(module, slots(state), state, options, what, converted);
    }

    /** Checks, converts and writes {@code state} into {@code module}. */
    private static LoadResult apply(String what, Module module, Map<String, Tensor> state, LoadOptions options,
                                    Map<String, String> metadata) {
        Map<String, Tensor> converted = new LinkedHashMap<>();
        Match match = convertAll(what, module, state, options, converted);
        Map<String, Tensor> targets = targets(module);
        try (NoGrad scope = NoGrad.enter()) {
            converted.forEach((n, t) -> targets.get(n).copy_(t));
        }
        return new LoadResult(match.missing(), match.unexpected(), metadata);
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
     * Loads {@code file} into {@code module} as {@link #loadStateDict(Module, Map)} does (strict,
     * lossless conversions only) and returns the file's metadata.
     *
     * @throws java.nio.file.NoSuchFileException when the file does not exist (the message says which
     *                                           and what to do)
     * @throws IOException                       when the file is a directory, unreadable, truncated
     *                                           or malformed
     * @throws IllegalArgumentException          when its tensors do not fit the module (the message
     *                                           names the file; either way the module is unchanged)
     * @see #load(Module, Path, LoadOptions)
     */
    public static Map<String, String> load(Module module, Path file) throws IOException {
        return load(module, file, LoadOptions.DEFAULT).metadata();
    }

    /**
     * Loads {@code file} into {@code module} as {@link #loadStateDict(Module, Map, LoadOptions)}
     * does. The header's names, dtypes and shapes are checked against the module first, so a file
     * that does not fit is rejected without reading (or allocating) any of its tensor data; the
     * tensors of unexpected keys are never read.
     *
     * @return the missing and unexpected keys (empty when strict) and the file's metadata
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws IOException                       when the file is a directory, unreadable, truncated
     *                                           or malformed
     * @throws IllegalArgumentException          when its tensors do not fit the module under
     *                                           {@code options} (the message names the file and lists
     *                                           every problem; the module is unchanged)
     */
    public static LoadResult load(Module module, Path file, LoadOptions options) throws IOException {
        Objects.requireNonNull(module, "load: module");
        Objects.requireNonNull(file, "load: file");
        Objects.requireNonNull(options, "load: options");
        try (SafetensorsReader r = Safetensors.open(file)) {
            Map<String, Slot> declared = new LinkedHashMap<>();
            for (String n : r.names()) {
                declared.put(n, new Slot(r.dtype(n), r.shape(n)));
            }
            String what = "load: " + file;
            Match match = check(module, declared, null, options, what, null);
            Set<String> skipped = new HashSet<>(match.unexpected());
            List<NamedTensor> tensors = new ArrayList<>(declared.size());
            for (String n : declared.keySet()) {
                if (!skipped.contains(n)) {
                    tensors.add(r.read(n));
                }
            }
            LoadResult loaded = apply(what, module, toTensors(tensors), options, r.metadata());
            return new LoadResult(loaded.missingKeys(), match.unexpected(), r.metadata());
        }
    }
}
