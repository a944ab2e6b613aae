package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.nn.checkpoint.Checkpoints;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.NanoGpt;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Gpt} and nanoGPT in PyTorch hold the same weights under {@link NanoGpt}'s mapping and
 * compute the same logits. The fixture (test resources {@code nanogpt-tiny.safetensors}, a nanoGPT
 * state_dict, and {@code nanogpt-tiny-logits.safetensors}, token ids and PyTorch 1.13's FP32
 * logits) was written by
 * {@code /usr/bin/python3 mpt-bench/peer/gpt_roundtrip.py fixture mpt-nn/src/test/resources/dev/mpt/nn}.
 *
 * <p>Bound: {@link NanoGptReference} evaluates the forward in double from the same weights and
 * derives, per logit, a bound B on the error of any FP32 evaluation (its class doc gives the
 * per-op terms); mpt and PyTorch are each checked within B of the double value, so they agree
 * within 2B of each other.
 *
 * <p>Two further tests run only when asked, for the manual round trip with PyTorch (README,
 * "Attention and transformers"): {@code -Dmpt.gpt.export=DIR} writes mpt's weights and logits for
 * {@code gpt_roundtrip.py check DIR}, and {@code -Dmpt.gpt.check=DIR} then reads what PyTorch wrote.
 */
class GptPyTorchFixtureTest {

    private static final String PREFIX = "transformer.";
    private static final String LM_HEAD = "lm_head.weight";

    /**
     * A nanoGPT state_dict's tensors as mpt's Gpt names them: prefix dropped, the tied lm_head checked
     * and dropped. The test's own reading of the mapping, for the double reference, independent of
     * {@link NanoGpt}, which loads the model.
     */
    static Map<String, Tensor> fromNanoGpt(SafetensorsFile file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (NamedTensor t : file.tensors()) {
            if (t.name().equals(LM_HEAD)) {
                assertArrayEquals(file.tensor(PREFIX + "wte.weight").floats(), t.floats(),
                        "lm_head.weight must be the tied transformer.wte.weight");
                continue;
            }
            assertTrue(t.name().startsWith(PREFIX), t.name());
            out.put(t.name().substring(PREFIX.length()), Tensor.of(t.floats(), t.shape()));
        }
        return out;
    }

    private static SafetensorsFile resource(Path dir, String name) throws IOException {
        Path f = dir.resolve(name);
        try (InputStream in = GptPyTorchFixtureTest.class.getResourceAsStream(name)) {
            Files.copy(in, f);
        }
        return Safetensors.read(f);
    }

    private static int meta(SafetensorsFile f, String key) {
        return Integer.parseInt(f.metadata().get(key));
    }

    private static int[][] ids(NamedTensor t) {
        int b = t.shape()[0];
        int n = t.shape()[1];
        int[][] ids = new int[b][n];
        for (int i = 0; i < b * n; i++) {
            ids[i / n][i % n] = (int) t.floats()[i];
        }
        return ids;
    }

    private static float[] flat(int[][] ids) {
        float[] out = new float[ids.length * ids[0].length];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids[i / ids[0].length][i % ids[0].length];
        }
        return out;
    }

    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    private static float[] forward(Gpt model, int[][] ids) {
        model.eval();
        try (NoGrad scope = NoGrad.enter()) {
            return model.forward(Tensor.of(flat(ids), ids.length, ids[0].length)).toFloatArray();
        }
    }

    private static Map<String, float[]> floats(Map<String, Tensor> state) {
        Map<String, float[]> out = new LinkedHashMap<>();
        state.forEach((n, t) -> out.put(n, t.toFloatArray()));
        return out;
    }

    /** Checks every logit of {@code got} within {@code factor * bound} of {@code want}; returns the largest ratio. */
    private static double assertWithin(String what, double[] want, float[] got, double[] bound, double factor) {
        assertEquals(want.length, got.length, what);
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double diff = Math.abs(got[i] - want[i]);
            assertTrue(diff <= factor * bound[i], what + ": logit " + i + " is " + got[i] + ", expected " + want[i]
                    + " within " + factor * bound[i]);
            worst = Math.max(worst, diff / (factor * bound[i]));
        }
        return worst;
    }

    /** The weights with the q and k thirds of layer {@code l}'s fused c_attn exchanged (a wrong mapping). */
    private static Map<String, float[]> swapQueryKey(Map<String, float[]> w, int l, int width) {
        Map<String, float[]> out = new LinkedHashMap<>(w);
        String p = "h." + l + ".attn.c_attn.";
        float[] weight = w.get(p + "weight").clone();
        float[] bias = w.get(p + "bias").clone();
        for (int r = 0; r < width; r++) {
            for (int c = 0; c < width; c++) {
                weight[r * width + c] = w.get(p + "weight")[(width + r) * width + c];
                weight[(width + r) * width + c] = w.get(p + "weight")[r * width + c];
            }
            bias[r] = w.get(p + "bias")[width + r];
            bias[width + r] = w.get(p + "bias")[r];
        }
        out.put(p + "weight", weight);
        out.put(p + "bias", bias);
        return out;
    }

    @Test
    void pyTorchWeightsLoadIntoGptAndGiveItsLogits(@TempDir Path dir) throws IOException {
        SafetensorsFile weights = resource(dir, "nanogpt-tiny.safetensors");
        SafetensorsFile expected = resource(dir, "nanogpt-tiny-logits.safetensors");
        int vocab = meta(weights, "vocab");
        int width = meta(weights, "width");
        int layers = meta(weights, "layers");
        int heads = meta(weights, "heads");
        Gpt model = new Gpt(vocab, meta(weights, "context"), width, layers, heads, 0, new SplittableRandom(1));
        Map<String, Tensor> state = fromNanoGpt(weights);
        NanoGpt.load(model, dir.resolve("nanogpt-tiny.safetensors"));  // strict: every name and shape matches

        int[][] ids = ids(expected.tensor("ids"));
        var ref = new NanoGptReference(floats(state), vocab, width, layers, heads, ids);
        float[] torch = expected.tensor("logits").floats();
        float[] mpt = forward(model, ids);
        assertWithin("PyTorch", ref.logits(), torch, ref.bound(), 1);
        assertWithin("mpt", ref.logits(), mpt, ref.bound(), 1);
        double worst = 0;
        double maxDiff = 0;
        double maxBound = 0;
        double maxLogit = 0;
        for (int i = 0; i < mpt.length; i++) {
            worst = Math.max(worst, Math.abs(mpt[i] - torch[i]) / (2 * ref.bound()[i]));
            maxDiff = Math.max(maxDiff, Math.abs(mpt[i] - torch[i]));
            maxBound = Math.max(maxBound, ref.bound()[i]);
            maxLogit = Math.max(maxLogit, Math.abs(torch[i]));
        }
        System.out.printf("mpt vs PyTorch: largest |difference| %.3e, largest bound %.3e, largest |logit| %.3f, "
                + "largest |difference| / (2 bound) %.2e%n", maxDiff, maxBound, maxLogit, worst);
        // the bound is tight enough to catch a wrong mapping: with q and k exchanged in either
        // layer's c_attn, some logit leaves the bound around PyTorch's
        for (int l = 0; l < layers; l++) {
            var wrong = new NanoGptReference(swapQueryKey(floats(state), l, width), vocab, width, layers, heads, ids);
            double far = 0;
            for (int i = 0; i < torch.length; i++) {
                far = Math.max(far, Math.abs(wrong.logits()[i] - torch[i]));
            }
            assertTrue(far > 2 * maxBound, "layer " + l + ": q/k exchanged moves the logits by only " + far
                    + ", within the bound " + maxBound);
            System.out.printf("q/k exchanged in layer %d: a logit moves by %.3f%n", l, far);
        }

        // and back: mpt writes the same names, shapes and bits PyTorch wrote, and its configuration
        Path back = dir.resolve("back.safetensors");
        NanoGpt.save(model, back, Map.of());
        SafetensorsFile written = Safetensors.read(back);
        for (NamedTensor t : written.tensors()) {
            assertEquals(weights.tensor(t.name()), t, t.name());
        }
        assertEquals(new TreeSet<>(weights.names()), new TreeSet<>(written.names()));
        for (String key : new String[] {"vocab", "context", "width", "layers", "heads"}) {
            assertEquals(weights.metadata().get(key), written.metadata().get(key), key);
        }
    }

    /**
     * The mpt half of the manual round trip, step 1: a randomly initialized Gpt's weights under
     * nanoGPT's names ({@code mpt-gpt.safetensors}) and, for fixed ids, its FP32 logits with the
     * derived bound ({@code mpt-logits.safetensors}: {@code ids}, {@code logits}, {@code bound}).
     */
    @Test
    @EnabledIfSystemProperty(named = "mpt.gpt.export", matches = ".+")
    void exportForPyTorch() throws IOException {
        Path dir = Path.of(System.getProperty("mpt.gpt.export"));
        Files.createDirectories(dir);
        int vocab = 29;
        int context = 12;
        int width = 16;
        int layers = 2;
        int heads = 2;
        var rng = new SplittableRandom(42);
        Gpt model = new Gpt(vocab, context, width, layers, heads, 0, rng);
        Map<String, Tensor> state = new LinkedHashMap<>();
        model.namedParameters().forEach((n, p) -> {
            float[] v = new float[p.value().numel()];
            boolean gain = n.endsWith("ln_1.weight") || n.endsWith("ln_2.weight") || n.equals("ln_f.weight");
            // the fixture's scales (gpt_roundtrip.py) for width 8, the matrices' scaled by 8 / fan-in: a
            // well-conditioned model, so that the worst-case bound stays far below the logits
            double fanIn = p.shape().length == 2 ? p.shape()[1] : 8;
            double std = n.endsWith("bias") ? 0.05 : n.startsWith("wpe") ? 1.5 : n.startsWith("wte") ? 0.5
                    : (n.contains("c_attn") ? 0.3 : 0.1) * 8 / fanIn;
            for (int i = 0; i < v.length; i++) {
                double g = rng.nextGaussian();
                v[i] = (float) (gain ? 1 + 0.2 * g : std * g);
            }
            state.put(n, Tensor.of(v, p.shape()));
        });
        Checkpoints.loadStateDict(model, state);
        int[][] ids = new int[3][context];
        for (int[] row : ids) {
            for (int i = 0; i < context; i++) {
                row[i] = rng.nextInt(vocab);
            }
        }
        var ref = new NanoGptReference(floats(state), vocab, width, layers, heads, ids);
        float[] logits = forward(model, ids);
        assertWithin("mpt", ref.logits(), logits, ref.bound(), 1);
        float[] bound = new float[logits.length];
        for (int i = 0; i < bound.length; i++) {
            bound[i] = Math.nextUp((float) ref.bound()[i]);     // rounded up: still a bound
        }
        NanoGpt.save(model, dir.resolve("mpt-gpt.safetensors"), Map.of());
        int[] shape = {ids.length, context, vocab};
        Safetensors.write(dir.resolve("mpt-logits.safetensors"), List.of(
                NamedTensor.ofFloats("ids", new int[] {ids.length, context}, flat(ids)),
                NamedTensor.ofFloats("logits", shape, logits), NamedTensor.ofFloats("bound", shape, bound)), Map.of());
    }

    /**
     * Step 3, after {@code gpt_roundtrip.py check DIR}: PyTorch's re-saved state_dict holds exactly
     * the bits mpt exported, loads into a Gpt, and PyTorch's logits lie within twice the bound of mpt's.
     */
    @Test
    @EnabledIfSystemProperty(named = "mpt.gpt.check", matches = ".+")
    void checkWhatPyTorchWrote() throws IOException {
        Path dir = Path.of(System.getProperty("mpt.gpt.check"));
        SafetensorsFile mine = Safetensors.read(dir.resolve("mpt-gpt.safetensors"));
        SafetensorsFile theirs = Safetensors.read(dir.resolve("torch-gpt.safetensors"));
        assertEquals(new TreeSet<>(mine.names()), new TreeSet<>(theirs.names()));
        for (String n : mine.names()) {
            assertEquals(mine.tensor(n), theirs.tensor(n), n);
        }
        Gpt model = new Gpt(meta(mine, "vocab"), meta(mine, "context"), meta(mine, "width"), meta(mine, "layers"),
                meta(mine, "heads"), 0, new SplittableRandom(1));
        NanoGpt.load(model, dir.resolve("torch-gpt.safetensors"));
        SafetensorsFile mpt = Safetensors.read(dir.resolve("mpt-logits.safetensors"));
        SafetensorsFile torch = Safetensors.read(dir.resolve("torch-logits.safetensors"));
        int[][] ids = ids(mpt.tensor("ids"));
        float[] logits = forward(model, ids);
        assertArrayEquals(mpt.tensor("logits").floats(), logits, 0f, "the same weights give the same logits");
        float[] b = mpt.tensor("bound").floats();
        double[] want = new double[logits.length];
        double[] bound = new double[logits.length];
        for (int i = 0; i < want.length; i++) {
            want[i] = logits[i];
            bound[i] = b[i];
        }
        double worst = assertWithin("PyTorch vs mpt", want, torch.tensor("logits").floats(), bound, 2);
        double maxBound = 0;
        for (double x : bound) {
            maxBound = Math.max(maxBound, x);
        }
        System.out.printf("PyTorch's logits within %.2e of twice the derived bound of mpt's (largest bound %.3e)%n",
                worst, maxBound);
    }
}
