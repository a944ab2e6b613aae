package dev.mpt.nn.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Gpt;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NanoGpt}: the names it writes and accepts, and the messages of files it refuses. The
 * round trip with PyTorch's own file and logits is {@code dev.mpt.nn.GptPyTorchFixtureTest}.
 */
class NanoGptTest {

    @TempDir
    Path dir;

    private static Gpt gpt(int vocab, int context, int width, int layers, int heads, long seed) {
        return new Gpt(vocab, context, width, layers, heads, 0, new SplittableRandom(seed));
    }

    private static Gpt small(long seed) {
        return gpt(7, 5, 8, 2, 2, seed);
    }

    /** Every tensor of the model's state as FP32 values by mpt's name. */
    private static Map<String, float[]> values(Gpt model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Checkpoints.stateDict(model).forEach((n, t) -> out.put(n, t.toFloatArray()));
        return out;
    }

    private static void assertSameState(Gpt want, Gpt got) {
        Map<String, float[]> w = values(want);
        Map<String, float[]> g = values(got);
        assertEquals(w.keySet(), g.keySet());
        w.forEach((n, v) -> assertArrayEquals(v, g.get(n), 0f, n));
    }

    /** {@code source} saved by NanoGpt, then rewritten with {@code edit} applied to its tensor list. */
    private Path edited(Gpt source, String name, UnaryOperator<List<NamedTensor>> edit, Map<String, String> meta)
            throws IOException {
        Path saved = dir.resolve("saved-" + name);
        NanoGpt.save(source, saved, Map.of());
        SafetensorsFile f = Safetensors.read(saved);
        Path out = dir.resolve(name);
        Safetensors.write(out, edit.apply(new ArrayList<>(f.tensors())), meta == null ? f.metadata() : meta);
        return out;
    }

    private static NamedTensor renamed(NamedTensor t, String name) {
        return new NamedTensor(name, t.dtype(), t.shape(), t.floats(), t.bits());
    }

    private static String refused(Gpt model, Path file) {
        Map<String, float[]> before = values(model);
        String msg = assertThrows(IllegalArgumentException.class, () -> NanoGpt.load(model, file)).getMessage();
        Map<String, float[]> after = values(model);
        before.forEach((n, v) -> assertArrayEquals(v, after.get(n), 0f, "refused load changed " + n));
        return msg;
    }

    @Test
    void saveWritesNanoGptNamesAndLoadRestoresEveryBit() throws IOException {
        Gpt a = small(1);
        Path file = dir.resolve("a.safetensors");
        NanoGpt.save(a, file, Map.of("step", "12"));
        SafetensorsFile f = Safetensors.read(file);
        List<String> want = new ArrayList<>();
        a.namedParameters().keySet().forEach(n -> want.add("transformer." + n));
        want.add("lm_head.weight");
        assertEquals(want, f.names());
        assertArrayEquals(f.tensor("transformer.wte.weight").floats(), f.tensor("lm_head.weight").floats(), 0f);
        assertEquals(Map.of("step", "12", "vocab", "7", "context", "5", "width", "8", "layers", "2", "heads", "2"),
                f.metadata());

        Gpt b = small(2);
        Map<String, String> meta = NanoGpt.load(b, file);
        assertEquals("12", meta.get("step"));
        assertSameState(a, b);
    }

    @Test
    void theTokenTableMayBeStoredUnderEitherName() throws IOException {
        Gpt a = small(3);
        for (String keep : new String[] {"lm_head.weight", "transformer.wte.weight"}) {
            String drop = keep.equals("lm_head.weight") ? "transformer.wte.weight" : "lm_head.weight";
            Path file = edited(a, "only-" + keep, ts -> {
                ts.removeIf(t -> t.name().equals(drop));
                return ts;
            }, null);
            Gpt b = small(4);
            NanoGpt.load(b, file);
            assertSameState(a, b);
        }
    }

    @Test
    void causalMasksAndTheCompiledPrefixAreAccepted() throws IOException {
        Gpt a = small(5);
        float[] tril = new float[25];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j <= i; j++) {
                tril[i * 5 + j] = 1;
            }
        }
        Path file = edited(a, "compiled", ts -> {
            List<NamedTensor> out = new ArrayList<>();
            for (NamedTensor t : ts) {
                out.add(renamed(t, "_orig_mod." + t.name()));
            }
            for (int l = 0; l < 2; l++) {
                out.add(NamedTensor.ofFloats("_orig_mod.transformer.h." + l + ".attn.bias", new int[] {1, 1, 5, 5},
                        tril));
            }
            return out;
        }, Map.of());
        Gpt b = small(6);
        NanoGpt.load(b, file);
        assertSameState(a, b);

        Path wrongMask = edited(a, "mask", ts -> {
            ts.add(NamedTensor.ofFloats("transformer.h.1.attn.bias", new int[] {1, 1, 4, 4}, new float[16]));
            return ts;
        }, null);
        assertEquals("NanoGpt.load: " + wrongMask + " does not fit " + b + " (model left unchanged): "
                + "'transformer.h.1.attn.bias' (nanoGPT's causal mask) is [1, 1, 4, 4], the model's context 5 needs "
                + "[1, 1, 5, 5].", refused(b, wrongMask));
    }

    @Test
    void aFileOfAnotherConfigurationIsRefusedNamingWhatDiffers() throws IOException {
        Gpt model = small(7);
        Path other = dir.resolve("other.safetensors");
        NanoGpt.save(gpt(9, 6, 12, 3, 2, 8), other, Map.of());
        String msg = refused(model, other);
        assertEquals("NanoGpt.load: " + other + " holds a GPT of another configuration: vocab 9 (the model has 7), "
                + "context 6 (the model has 5), width 12 (the model has 8), layers 3 (the model has 2); the model is "
                + model + " (model left unchanged). Build the Gpt with the file's configuration (nanoGPT's GPTConfig: "
                + "vocab_size, block_size, n_embd, n_layer, n_head)", msg);

        // heads do not show in the weights: the metadata's (mpt's key or nanoGPT's n_head) is checked
        Path heads = dir.resolve("heads.safetensors");
        NanoGpt.save(gpt(7, 5, 8, 2, 4, 9), heads, Map.of());
        assertTrue(refused(model, heads).contains("another configuration: heads 4 (the model has 2);"));
        Path nHead = edited(model, "n_head", ts -> ts, Map.of("n_head", "1"));
        assertTrue(refused(model, nHead).contains("another configuration: heads 1 (the model has 2);"));
        Path bad = edited(model, "bad-meta", ts -> ts, Map.of("n_head", "two"));
        assertEquals("NanoGpt.load: " + bad + ": metadata 'n_head' is not a whole number: 'two'", refused(model, bad));
        // without any statement of heads, a model of the same shapes loads
        Gpt fourHeads = gpt(7, 5, 8, 2, 4, 10);
        NanoGpt.load(fourHeads, edited(model, "no-meta", ts -> ts, Map.of()));
        assertSameState(model, fourHeads);
    }

    @Test
    void wrongShapesMissingAndUnexpectedKeysAreListedTogether() throws IOException {
        Gpt model = small(11);
        Path file = edited(model, "broken", ts -> {
            List<NamedTensor> out = new ArrayList<>();
            for (NamedTensor t : ts) {
                if (t.name().equals("transformer.h.0.mlp.c_fc.weight")) {
                    out.add(NamedTensor.ofFloats(t.name(), new int[] {16, 8}, new float[128]));
                } else if (t.name().equals("transformer.ln_f.bias")) {
                    out.add(renamed(t, "transformer.ln_f.beta"));
                } else if (!t.name().equals("transformer.h.1.ln_2.weight")) {
                    out.add(t);
                }
            }
            return out;
        }, null);
        assertEquals("NanoGpt.load: " + file + " does not fit " + model + " (model left unchanged): missing keys "
                + "[transformer.h.1.ln_2.weight, transformer.ln_f.bias]; unexpected keys [transformer.ln_f.beta]; "
                + "'transformer.h.0.mlp.c_fc.weight' is FP32[16, 8], the model has FP32[32, 8].", refused(model, file));
    }

    @Test
    void aReadOutThatIsNotTheTokenTableIsRefused() throws IOException {
        Gpt model = small(12);
        Path file = edited(model, "untied", ts -> {
            for (int i = 0; i < ts.size(); i++) {
                NamedTensor t = ts.get(i);
                if (t.name().equals("lm_head.weight")) {
                    float[] v = t.floats().clone();
                    v[2 * 8 + 3] = 0.5f;
                    ts.set(i, NamedTensor.ofFloats(t.name(), t.shape(), v));
                }
            }
            return ts;
        }, null);
        float wte = Checkpoints.stateDict(model).get("wte.weight").toFloatArray()[2 * 8 + 3];
        assertEquals("NanoGpt.load: " + file + ": the read-out and the token table differ (first at [2, 3]: 0.5 in "
                + "'lm_head.weight', " + wte + " in 'transformer.wte.weight'); nanoGPT and Gpt tie them into one tensor, "
                + "so the file must hold one table (model left unchanged)", refused(model, file));
    }

    @Test
    void nonFiniteWeightsAreRefusedAndTheModelKeepsItsValues() throws IOException {
        Gpt model = small(13);
        Path file = edited(small(14), "nan", ts -> {
            for (int i = 0; i < ts.size(); i++) {
                NamedTensor t = ts.get(i);
                if (t.name().equals("transformer.h.1.attn.c_proj.bias")) {
                    float[] v = t.floats().clone();
                    v[0] = Float.NaN;
                    ts.set(i, NamedTensor.ofFloats(t.name(), t.shape(), v));
                }
            }
            return ts;
        }, null);
        String msg = refused(model, file);
        assertTrue(msg.startsWith("NanoGpt.load: " + file + ": "), msg);
        assertTrue(msg.contains("'h.1.attn.c_proj.bias' holds NaN or infinite values"), msg);
    }

    @Test
    void halfPrecisionModelsLoadLosslesslyOrRoundWhenAsked() throws IOException {
        Gpt fp32 = small(15);
        Path file = dir.resolve("fp32.safetensors");
        NanoGpt.save(fp32, file, Map.of());
        Gpt half = small(16);
        half.to(DType.FP16);
        String msg = refused(half, file);
        assertTrue(msg.contains("'transformer.wte.weight' is FP32[7, 8], the model has FP16[7, 8] (FP32 to FP16 "
                + "rounds)"), msg);
        assertTrue(msg.endsWith("To round to nearest even, load with Conversion.ROUND."), msg);
        NanoGpt.load(half, file, Conversion.ROUND);
        Map<String, Tensor> state = Checkpoints.stateDict(fp32);
        Checkpoints.stateDict(half).forEach((n, t) -> assertArrayEquals(state.get(n).to(DType.FP16).toFloatArray(),
                t.toFloatArray(), 0f, n));

        // an FP16 model's file holds FP16 tensors, which widen exactly into an FP32 model
        Path halfFile = dir.resolve("fp16.safetensors");
        NanoGpt.save(half, halfFile, Map.of());
        assertEquals(DType.FP16, Safetensors.read(halfFile).tensor("lm_head.weight").dtype());
        Gpt wide = small(17);
        NanoGpt.load(wide, halfFile);
        assertSameState(half, wide);
    }

    @Test
    void readBuildsAGptOfTheFilesConfiguration() throws IOException {
        Gpt a = gpt(9, 6, 12, 3, 4, 19);
        Path file = dir.resolve("read.safetensors");
        NanoGpt.save(a, file, Map.of());
        Gpt b = NanoGpt.read(file, 0.1, new SplittableRandom(20));
        assertEquals(List.of(9, 6, 12, 3, 4), List.of(b.vocab(), b.context(), b.width(), b.layers(), b.heads()));
        assertSameState(a, b);
        // nanoGPT's own metadata name for the heads works too; without one, read says what to do
        Gpt c = NanoGpt.read(edited(a, "n_head", ts -> ts, Map.of("n_head", "4")), 0, new SplittableRandom(21));
        assertEquals(4, c.heads());
        Path bare = edited(a, "bare", ts -> ts, Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> NanoGpt.read(bare, 0, new SplittableRandom(22)));
        assertEquals("NanoGpt.read: " + bare + " does not show the model's heads (metadata 'heads' or 'n_head'); "
                + "build the Gpt with new Gpt(vocab, context, width, layers, heads, dropout, rng) and load it with "
                + "NanoGpt.load(model, file)", e.getMessage());
    }

    @Test
    void saveRefusesMetadataThatWouldHideTheConfiguration() {
        Gpt model = small(18);
        var e = assertThrows(IllegalArgumentException.class,
                () -> NanoGpt.save(model, dir.resolve("x.safetensors"), Map.of("heads", "8")));
        assertEquals("NanoGpt.save: metadata key 'heads' is written from the model's configuration (heads 2); use "
                + "another key", e.getMessage());
    }
}
