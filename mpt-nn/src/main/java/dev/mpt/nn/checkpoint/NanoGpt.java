package dev.mpt.nn.checkpoint;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Gpt;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link Gpt} to and from a nanoGPT {@code state_dict} (Karpathy's {@code model.py}, bias on)
 * in safetensors format, one call each way:
 *
 * <pre>{@code
 * Gpt model = new Gpt(65, 256, 384, 6, 6, 0.0, rng);        // GPTConfig(vocab_size, block_size, n_embd, n_layer, n_head)
 * NanoGpt.load(model, Path.of("nanogpt.safetensors"));      // PyTorch: save_file(model.state_dict(), ...)
 * NanoGpt.save(model, Path.of("mpt-gpt.safetensors"), Map.of()); // PyTorch: model.load_state_dict(load_file(...))
 * Gpt same = NanoGpt.read(Path.of("mpt-gpt.safetensors"), 0.0, rng); // a Gpt of the file's configuration
 * }</pre>
 *
 * <p>Names: mpt's {@code n} is nanoGPT's {@code transformer.n} ({@code wte.weight},
 * {@code wpe.weight}, {@code h.<i>.ln_1.weight}, {@code h.<i>.attn.c_attn.weight}, ...,
 * {@code ln_f.bias}), and nanoGPT's {@code lm_head.weight} is the token table
 * {@code transformer.wte.weight}: both models tie the read-out to it, so it is one tensor. Weights
 * are {@code [out, in]} in both, so nothing is transposed.
 *
 * <p>Loading accepts:
 * <ul>
 * <li>the token table under either name or both (PyTorch's {@code state_dict()} lists both;
 *     {@code safetensors.torch.save_model} keeps only {@code lm_head.weight}); both must then hold
 *     the same values, else the file is refused naming the first element that differs;</li>
 * <li>nanoGPT's causal masks {@code transformer.h.<i>.attn.bias} {@code [1, 1, T, T]} (a buffer of
 *     its non-flash attention, not a weight; mpt builds the mask in the attention op): their shape
 *     must fit the model's context, their values are not read;</li>
 * <li>names prefixed with {@code _orig_mod.} (a {@code torch.compile}d model's state_dict, which
 *     nanoGPT's {@code train.py} strips the same way).</li>
 * </ul>
 * Before reading any tensor data it refuses a file of another configuration, naming each number
 * that differs: vocabulary and width from the token table, context from {@code wpe}, layers from
 * the {@code h.<i>} indices; heads cannot be seen in the weights and are checked when the metadata
 * states them ({@code heads}, as {@link #save} writes, or nanoGPT's {@code n_head}). Then, as
 * {@link Checkpoints#load} does, it checks every key, shape and dtype (a message lists all missing
 * and unexpected keys and every mismatch, naming the file's key and both shapes) and every value's
 * finiteness before the first value is written: a refused file leaves the model unchanged.
 *
 * <p>Saving writes the state under nanoGPT's names with {@code lm_head.weight} as a second copy of
 * the token table (safetensors cannot alias one tensor under two names, and PyTorch's strict
 * {@code load_state_dict} wants both keys), no causal masks (nanoGPT with PyTorch 2's flash
 * attention has none; an older one's are rebuilt by its constructor, so load there with
 * {@code strict=False}), and the configuration as metadata {@code vocab}, {@code context},
 * {@code width}, {@code layers}, {@code heads}.
 */
public final class NanoGpt {

    /** The prefix of every nanoGPT name but {@code lm_head.weight}. */
    public static final String PREFIX = "transformer.";

    /** nanoGPT's name of the read-out, tied to {@code transformer.wte.weight}. */
    public static final String LM_HEAD = "lm_head.weight";

    private static final String WTE = PREFIX + "wte.weight";
    private static final String WPE = PREFIX + "wpe.weight";
    private static final String COMPILED = "_orig_mod.";
    private static final Pattern BLOCK = Pattern.compile("transformer\\.h\\.(\\d{1,9})\\..*");
    private static final Pattern MASK = Pattern.compile("transformer\\.h\\.\\d+\\.attn\\.bias");
    /** The configuration's metadata keys as {@link #save} writes them, then nanoGPT's GPTConfig names. */
    private static final String[][] CONFIG_KEYS = {{"vocab", "vocab_size"}, {"context", "block_size"},
        {"width", "n_embd"}, {"layers", "n_layer"}, {"heads", "n_head"}};

    private NanoGpt() {
    }

    /**
     * Loads a nanoGPT state_dict from {@code file} into {@code model} with
     * {@link Conversion#LOSSLESS} dtype conversions (FP16 or BF16 weights into an FP32 model).
     *
     * @return the file's metadata
     * @see #load(Gpt, Path, Conversion)
     */
    public static Map<String, String> load(Gpt model, Path file) throws IOException {
        return load(model, file, Conversion.LOSSLESS);
    }

    /**
     * Loads a nanoGPT state_dict from {@code file} into {@code model} (see the class doc for the
     * names it accepts and the checks), converting dtypes as {@code conversion} allows.
     *
     * @return the file's metadata
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws IOException                       when it is unreadable, truncated or not safetensors
     * @throws IllegalArgumentException          when it holds a model of another configuration
     *                                           (naming each number that differs), does not fit the
     *                                           model (listing every missing and unexpected key and
     *                                           every shape and dtype mismatch), holds two different
     *                                           token tables, or holds NaN or infinite values; the
     *                                           model is then unchanged
     */
    public static Map<String, String> load(Gpt model, Path file, Conversion conversion) throws IOException {
        Objects.requireNonNull(model, "NanoGpt.load: model is null");
        Objects.requireNonNull(file, "NanoGpt.load: file is null");
        Objects.requireNonNull(conversion, "NanoGpt.load: conversion is null");
        String what = "NanoGpt.load: " + file;
        try (SafetensorsReader r = Safetensors.open(file)) {
            Map<String, String> names = names(what, r);
            checkConfiguration(what, model, r, names);
            Map<String, Tensor> targets = new LinkedHashMap<>();
            model.namedParameters().forEach((n, p) -> targets.put(PREFIX + n, p.value()));
            model.namedBuffers().forEach((n, b) -> targets.put(PREFIX + n, b.value()));
            checkKeys(what, model, r, names, targets, conversion);

            List<NamedTensor> state = new ArrayList<>(targets.size());     // under mpt's names
            NamedTensor table = tokenTable(what, r, names);
            for (String key : targets.keySet()) {
                NamedTensor t = key.equals(WTE) ? table : r.read(names.get(key));
                state.add(new NamedTensor(key.substring(PREFIX.length()), t.dtype(), t.shape(), t.floats(), t.bits()));
            }
            try {
                Checkpoints.loadStateDict(model, Checkpoints.toTensors(state), new LoadOptions(true, conversion));
            } catch (IllegalArgumentException e) {                 // non-finite values, named by mpt's keys
                throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
            }
            return r.metadata();
        }
    }

    /**
     * A new {@link Gpt} of the configuration {@code file} holds, with its weights: vocabulary, width,
     * context and layers from the tensors' shapes, heads from the metadata ({@code heads}, as
     * {@link #save} writes, or nanoGPT's {@code n_head}); then as {@link #load(Gpt, Path)}.
     *
     * @param dropout the model's drop probability (a file holds none; nanoGPT fine-tunes with 0 to 0.1)
     * @param rng     the model's dropout generator (its initial weights are all replaced)
     * @throws IllegalArgumentException when the file does not show every number (no {@code heads}
     *                                  in its metadata, say: then build the Gpt and call
     *                                  {@link #load(Gpt, Path)}), or as {@link #load(Gpt, Path)}
     */
    public static Gpt read(Path file, double dropout, RandomGenerator rng) throws IOException {
        Objects.requireNonNull(file, "NanoGpt.read: file is null");
        Integer[] config;
        try (SafetensorsReader r = Safetensors.open(file)) {
            config = fileConfiguration("NanoGpt.read: " + file, r, names("NanoGpt.read: " + file, r));
        }
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < config.length; i++) {
            if (config[i] == null) {
                unknown.add(CONFIG_KEYS[i][0] + " (metadata '" + CONFIG_KEYS[i][0] + "' or '" + CONFIG_KEYS[i][1] + "')");
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("NanoGpt.read: " + file + " does not show the model's " + String.join(
                    ", ", unknown) + "; build the Gpt with new Gpt(vocab, context, width, layers, heads, dropout, rng) "
                    + "and load it with NanoGpt.load(model, file)");
        }
        Gpt model = new Gpt(config[0], config[1], config[2], config[3], config[4], dropout, rng);
        load(model, file);
        return model;
    }

    /**
     * Writes {@code model}'s state to {@code file} under nanoGPT's names (see the class doc), in the
     * model's dtype, with {@code metadata} and the configuration keys {@code vocab},
     * {@code context}, {@code width}, {@code layers}, {@code heads}; the file is replaced atomically.
     *
     * @throws IllegalArgumentException when {@code metadata} holds one of the configuration keys
     */
    public static void save(Gpt model, Path file, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(model, "NanoGpt.save: model is null");
        Objects.requireNonNull(file, "NanoGpt.save: file is null");
        Objects.requireNonNull(metadata, "NanoGpt.save: metadata is null");
        int[] config = config(model);
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        for (int i = 0; i < CONFIG_KEYS.length; i++) {
            String key = CONFIG_KEYS[i][0];
            if (meta.containsKey(key)) {
                throw new IllegalArgumentException("NanoGpt.save: metadata key '" + key + "' is written from the "
                        + "model's configuration (" + key + " " + config[i] + "); use another key");
            }
            meta.put(key, Integer.toString(config[i]));
        }
        Map<String, Tensor> state = new LinkedHashMap<>();
        Checkpoints.stateDict(model).forEach((n, t) -> state.put(PREFIX + n, t));
        state.put(LM_HEAD, state.get(WTE));
        Safetensors.write(file, Checkpoints.toNamedTensors(state), meta);
    }

    /** The model's vocab, context, width, layers and heads, in the order of {@link #CONFIG_KEYS}. */
    private static int[] config(Gpt model) {
        return new int[] {model.vocab(), model.context(), model.width(), model.layers(), model.heads()};
    }

    /**
     * Refuses a file whose configuration, as far as its header shows it, differs from the model's:
     * vocab and width from the token table, context from {@code wpe}, layers from the block indices
     * (0 when there are none), any of them from the metadata when the tensors do not show it, heads
     * from the metadata only.
     */
    private static void checkConfiguration(String what, Gpt model, SafetensorsReader r, Map<String, String> names) {
        Integer[] file = fileConfiguration(what, r, names);
        int[] mine = config(model);
        List<String> differ = new ArrayList<>();
        for (int i = 0; i < mine.length; i++) {
            if (file[i] != null && file[i] != mine[i]) {
                differ.add(CONFIG_KEYS[i][0] + " " + file[i] + " (the model has " + mine[i] + ")");
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException(what + " holds a GPT of another configuration: " + String.join(", ",
                    differ) + "; the model is " + model + " (model left unchanged). Build the Gpt with the file's "
                    + "configuration (nanoGPT's GPTConfig: vocab_size, block_size, n_embd, n_layer, n_head)");
        }
    }

    /** The file's vocab, context, width, layers and heads as far as its header shows them (null: unknown). */
    private static Integer[] fileConfiguration(String what, SafetensorsReader r, Map<String, String> names) {
        Integer[] file = new Integer[CONFIG_KEYS.length];
        int[] table = shape(r, names, names.containsKey(WTE) ? WTE : LM_HEAD);
        int[] wpe = shape(r, names, WPE);
        if (table != null && table.length == 2) {
            file[0] = table[0];
            file[2] = table[1];
        }
        if (wpe != null && wpe.length == 2) {
            file[1] = wpe[0];
        }
        int layers = 0;
        for (String n : names.keySet()) {
            Matcher m = BLOCK.matcher(n);
            if (m.matches()) {
                layers = Math.max(layers, Math.addExact(Integer.parseInt(m.group(1)), 1));
            }
        }
        file[3] = layers;
        for (int i = 0; i < CONFIG_KEYS.length; i++) {
            if (file[i] == null) {
                file[i] = metadataInt(what, r.metadata(), CONFIG_KEYS[i]);
            }
        }
        return file;
    }

    /** The file's names by nanoGPT name, {@code _orig_mod.} stripped. */
    private static Map<String, String> names(String what, SafetensorsReader r) {
        Map<String, String> names = new LinkedHashMap<>();
        for (String n : r.names()) {
            String key = n.startsWith(COMPILED) ? n.substring(COMPILED.length()) : n;
            if (names.put(key, n) != null) {
                throw new IllegalArgumentException(what + " holds '" + key + "' twice, with and without the prefix '"
                        + COMPILED + "'");
            }
        }
        return names;
    }

    /** The value of the first of {@code keys} in the metadata, or null when none is there. */
    private static Integer metadataInt(String what, Map<String, String> meta, String[] keys) {
        for (String k : keys) {
            String v = meta.get(k);
            if (v != null) {
                try {
                    return Integer.valueOf(v.strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(what + ": metadata '" + k + "' is not a whole number: '" + v
                            + "'", e);
                }
            }
        }
        return null;
    }

    private static int[] shape(SafetensorsReader r, Map<String, String> names, String key) {
        String n = names.get(key);
        return n == null ? null : r.shape(n);
    }

    /** Checks the header's keys, shapes and dtypes against {@code targets}, listing every problem in one message. */
    private static void checkKeys(String what, Gpt model, SafetensorsReader r, Map<String, String> names,
                                  Map<String, Tensor> targets, Conversion conversion) {
        List<String> missing = new ArrayList<>();
        for (String key : targets.keySet()) {
            if (!names.containsKey(key) && !(key.equals(WTE) && names.containsKey(LM_HEAD))) {
                missing.add(key);
            }
        }
        List<String> unexpected = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        boolean rounding = false;
        int[] mask = {1, 1, model.context(), model.context()};
        for (Map.Entry<String, String> e : names.entrySet()) {
            String key = e.getKey();
            String n = e.getValue();
            int[] shape = r.shape(n);
            DType dtype = r.dtype(n);
            Tensor target = targets.get(key.equals(LM_HEAD) ? WTE : key);
            if (target == null) {
                if (!MASK.matcher(key).matches()) {
                    unexpected.add(n);
                } else if (!Arrays.equals(shape, mask)) {
                    problems.add("'" + n + "' (nanoGPT's causal mask) is " + Arrays.toString(shape) + ", the model's "
                            + "context " + model.context() + " needs " + Arrays.toString(mask));
                }
            } else if (!Arrays.equals(shape, target.shape())) {
                problems.add("'" + n + "' is " + dtype + Arrays.toString(shape) + ", the model has " + target.dtype()
                        + Arrays.toString(target.shape()));
            } else if (!conversion.allows(dtype, target.dtype())) {
                problems.add("'" + n + "' is " + dtype + Arrays.toString(shape) + ", the model has " + target.dtype()
                        + Arrays.toString(target.shape()) + " (" + dtype + " to " + target.dtype() + " rounds)");
                rounding = true;
            }
        }
        if (!unexpected.isEmpty()) {
            problems.add(0, "unexpected keys " + unexpected);
        }
        if (!missing.isEmpty()) {
            problems.add(0, "missing keys " + missing);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(what + " does not fit " + model + " (model left unchanged): "
                    + String.join("; ", problems) + "." + (rounding ? " To round to nearest even, load with "
                    + "Conversion.ROUND." : ""));
        }
    }

    /**
     * The token table: {@code transformer.wte.weight} or {@code lm_head.weight}, whichever the file
     * holds, and when it holds both, only if they are equal (same dtype and bits).
     */
    private static NamedTensor tokenTable(String what, SafetensorsReader r, Map<String, String> names)
            throws IOException {
        NamedTensor wte = names.containsKey(WTE) ? r.read(names.get(WTE)) : null;
        NamedTensor head = names.containsKey(LM_HEAD) ? r.read(names.get(LM_HEAD)) : null;
        if (wte == null || head == null) {
            return wte != null ? wte : head;
        }
        String differs = null;
        if (wte.dtype() != head.dtype()) {
            differs = "'" + names.get(LM_HEAD) + "' is " + head.dtype() + ", '" + names.get(WTE) + "' " + wte.dtype();
        } else {
            for (int i = 0; i < wte.numel() && differs == null; i++) {
                boolean same = wte.floats() != null ? Float.floatToRawIntBits(wte.floats()[i])
                        == Float.floatToRawIntBits(head.floats()[i]) : wte.bits()[i] == head.bits()[i];
                if (!same) {
                    int cols = wte.shape()[1];
                    differs = "first at [" + i / cols + ", " + i % cols + "]: " + value(head, i) + " in '"
                            + names.get(LM_HEAD) + "', " + value(wte, i) + " in '" + names.get(WTE) + "'";
                }
            }
        }
        if (differs != null) {
            throw new IllegalArgumentException(what + ": the read-out and the token table differ (" + differs + "); "
                    + "nanoGPT and Gpt tie them into one tensor, so the file must hold one table (model left "
                    + "unchanged)");
        }
        return wte;
    }

    private static String value(NamedTensor t, int i) {
        return t.floats() != null ? Float.toString(t.floats()[i]) : String.format("0x%04x", t.bits()[i] & 0xffff);
    }
}
