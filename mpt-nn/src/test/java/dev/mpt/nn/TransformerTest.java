package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import dev.mpt.nn.loss.Losses;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformerTest {

    private static final double U32 = 0x1p-24;

    /**
     * The layer against a double evaluation of nanoGPT's formula written out per head, which pins the
     * layout: q, k, v are the column thirds of c_attn's output and head h their columns
     * {@code h*hd .. (h+1)*hd}. Bound: each FP32 stage errs by at most its depth (dot length plus a few
     * roundings) times u32 times the same chain evaluated on absolute values; the depths add up to
     * {@code 3C + T + 2 hd + 16}.
     */
    @Test
    void multiheadAttentionMatchesADoubleEvaluationOfItsFormula() {
        int b = 2;
        int t = 5;
        int c = 8;
        int heads = 2;
        int hd = c / heads;
        for (boolean causal : new boolean[] {false, true}) {
            var mha = new MultiheadAttention(c, heads, causal, 0, new SplittableRandom(1));
            Tensor x = Tensor.randn(new SplittableRandom(2), DType.FP32, b, t, c);
            float[] got = mha.forward(x).toFloatArray();
            double[] xs = d(x);
            double[] wa = d(mha.qkv().weight().value());
            double[] ba = d(mha.qkv().bias().value());
            double[] wp = d(mha.proj().weight().value());
            double[] bp = d(mha.proj().bias().value());
            for (int bb = 0; bb < b; bb++) {
                double[][] qkv = new double[t][3 * c];
                double[][] qkvAbs = new double[t][3 * c];
                for (int i = 0; i < t; i++) {
                    for (int o = 0; o < 3 * c; o++) {
                        double s = ba[o];
                        double a = Math.abs(ba[o]);
                        for (int e = 0; e < c; e++) {
                            s += xs[(bb * t + i) * c + e] * wa[o * c + e];
                            a += Math.abs(xs[(bb * t + i) * c + e] * wa[o * c + e]);
                        }
                        qkv[i][o] = s;
                        qkvAbs[i][o] = a;
                    }
                }
                double[][] y = new double[t][c];
                double[][] yAbs = new double[t][c];
                double scale = 1 / Math.sqrt(hd);
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < t; i++) {
                        int jEnd = causal ? i + 1 : t;
                        double[] p = new double[jEnd];
                        double m = Double.NEGATIVE_INFINITY;
                        double sAbs = 0;
                        for (int j = 0; j < jEnd; j++) {
                            for (int e = 0; e < hd; e++) {
                                p[j] += qkv[i][h * hd + e] * qkv[j][c + h * hd + e];
                                sAbs = Math.max(sAbs, scale * qkvAbs[i][h * hd + e] * qkvAbs[j][c + h * hd + e] * hd);
                            }
                            p[j] *= scale;
                            m = Math.max(m, p[j]);
                        }
                        double l = 0;
                        for (int j = 0; j < jEnd; j++) {
                            p[j] = Math.exp(p[j] - m);
                            l += p[j];
                        }
                        for (int e = 0; e < hd; e++) {
                            for (int j = 0; j < jEnd; j++) {
                                y[i][h * hd + e] += p[j] / l * qkv[j][2 * c + h * hd + e];
                                // a score error of sAbs * depth * u32 moves a weight by that much relatively
                                yAbs[i][h * hd + e] += p[j] / l * qkvAbs[j][2 * c + h * hd + e] * (1 + 2 * sAbs);
                            }
                        }
                    }
                }
                for (int i = 0; i < t; i++) {
                    for (int o = 0; o < c; o++) {
                        double s = bp[o];
                        double a = Math.abs(bp[o]);
                        for (int e = 0; e < c; e++) {
                            s += y[i][e] * wp[o * c + e];
                            a += yAbs[i][e] * Math.abs(wp[o * c + e]);
                        }
                        int gi = (bb * t + i) * c + o;
                        double bound = (3 * c + t + 2 * hd + 16) * U32 * a;
                        assertTrue(Math.abs(got[gi] - s) <= bound, "causal " + causal + " [" + gi + "]: got " + got[gi]
                                + ", want " + s + ", bound " + bound);
                    }
                }
            }
        }
    }

    @Test
    void gradientsOfTheBlockMatchFiniteDifferences() {
        var rng = new SplittableRandom(3);
        var block = new TransformerBlock(4, 2, true, 0, rng);
        Parameter wa = block.namedParameters().get("attn.c_attn.weight");
        Parameter wf = block.namedParameters().get("mlp.c_fc.weight");
        GradCheck.assertGradients(in -> {
            wa.set(in[1]);
            wf.set(in[2]);
            return block.forward(in[0]);
        }, Tensor.randn(rng, DType.FP32, 2, 3, 4), wa.value().detach(), wf.value().detach());
    }

    @Test
    void causalBlocksDoNotLookAheadAndPaddingKeysAreIgnored() {
        var block = new TransformerBlock(8, 2, true, 0, new SplittableRandom(4));
        Tensor x = Tensor.randn(new SplittableRandom(5), DType.FP32, 1, 6, 8);
        float[] a = block.forward(x).narrow(1, 0, 4).toFloatArray();
        Tensor changed = x.contiguous();
        changed.floatData()[5 * 8 + 3] += 1f;
        float[] b = block.forward(changed).narrow(1, 0, 4).toFloatArray();
        assertArrayEquals(a, b, "outputs before the changed position");

        var enc = new TransformerBlock(8, 2, false, 0, new SplittableRandom(4));
        float[] pad = {0, 0, 0, 0, 1, 1};
        Tensor mask = Tensor.of(pad, 1, 6);
        float[] p = enc.forward(x, mask).narrow(1, 0, 4).toFloatArray();
        float[] q = enc.forward(changed, mask).narrow(1, 0, 4).toFloatArray();
        assertArrayEquals(p, q, "a padding key does not reach other positions");
    }

    @Test
    void gptHasNanoGptNamesAndTiesTheReadOut() {
        var gpt = new Gpt(11, 8, 8, 2, 2, 0, new SplittableRandom(6));
        List<String> names = List.copyOf(gpt.namedParameters().keySet());
        assertEquals(List.of("wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.ln_1.bias", "h.0.attn.c_attn.weight",
                "h.0.attn.c_attn.bias", "h.0.attn.c_proj.weight", "h.0.attn.c_proj.bias", "h.0.ln_2.weight",
                "h.0.ln_2.bias", "h.0.mlp.c_fc.weight", "h.0.mlp.c_fc.bias", "h.0.mlp.c_proj.weight",
                "h.0.mlp.c_proj.bias"), names.subList(0, 14));
        assertEquals(List.of("ln_f.weight", "ln_f.bias"), names.subList(names.size() - 2, names.size()));
        assertArrayEquals(new int[] {24, 8}, gpt.namedParameters().get("h.1.attn.c_attn.weight").shape());
        var groups = gpt.decayGroups();
        assertTrue(groups.get(true).keySet().stream().allMatch(n -> n.startsWith("h.") && n.endsWith(".weight")
                && !n.contains(".ln_")), groups.get(true).toString());
        assertTrue(groups.get(false).containsKey("wte.weight") && groups.get(false).containsKey("h.1.ln_2.bias"));
        assertEquals(gpt.namedParameters().size(), groups.get(true).size() + groups.get(false).size());

        // tying: a token that never appears in the input still gets a read-out gradient in wte
        Tensor ids = Tensor.of(new float[] {1, 2, 3, 1}, 1, 4);
        Tensor logits = gpt.forward(ids);
        assertArrayEquals(new int[] {1, 4, 11}, logits.shape());
        Losses.crossEntropy(logits.reshape(4, 11), new int[] {2, 3, 1, 2}).backward();
        Tensor g = gpt.tokenEmbedding().weight().grad();
        float row10 = 0;
        for (int e = 0; e < 8; e++) {
            row10 += Math.abs(g.get(10, e));
        }
        assertTrue(row10 > 0, "the read-out's gradient reaches the shared table");
    }

    @Test
    void aSmallGptLearnsARepeatingSequenceInFp32AndMixedFp16() {
        for (DType dt : new DType[] {DType.FP32, DType.FP16}) {
            double first = 0;
            double last = 0;
            var gpt = new Gpt(5, 8, 16, 1, 2, 0, new SplittableRandom(7));
            // FP32 copies of the weights are updated by plain SGD and rounded into the model
            var params = List.copyOf(gpt.namedParameters().values());
            float[][] master = new float[params.size()][];
            for (int i = 0; i < master.length; i++) {
                master[i] = params.get(i).value().toFloatArray();
            }
            gpt.to(dt);
            float[] seq = {0, 1, 2, 3, 4, 0, 1, 2, 3};
            Tensor ids = Tensor.of(java.util.Arrays.copyOf(seq, 8), 1, 8);
            int[] next = {1, 2, 3, 4, 0, 1, 2, 3};
            for (int step = 0; step < 60; step++) {
                gpt.zeroGrad();
                Tensor loss = Losses.crossEntropy(gpt.forward(ids).reshape(8, 5), next);
                if (step == 0) {
                    first = loss.item();
                }
                last = loss.item();
                loss.backward();
                for (int i = 0; i < master.length; i++) {
                    float[] gr = params.get(i).grad().toFloatArray();
                    for (int e = 0; e < gr.length; e++) {
                        master[i][e] -= 0.1f * gr[e];
                    }
                    params.get(i).set(Tensor.of(master[i], params.get(i).shape()).to(params.get(i).dtype()));
                }
            }
            assertTrue(last < 0.2 * first, dt + ": loss " + first + " -> " + last);
        }
    }

    @Test
    void badArgumentsAreRefused() {
        var rng = new SplittableRandom(8);
        var e = assertThrows(IllegalArgumentException.class, () -> new MultiheadAttention(10, 3, true, 0, rng));
        assertTrue(e.getMessage().contains("embedDim 10 must be a multiple of heads 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MultiheadAttention(8, 2, true, 1.5, rng));
        assertTrue(e.getMessage().contains("dropout must be in [0, 1)"), e.getMessage());
        var mha = new MultiheadAttention(8, 2, true, 0, rng);
        e = assertThrows(IllegalArgumentException.class, () -> mha.forward(Tensor.zeros(2, 8)));
        assertTrue(e.getMessage().contains("input must be [B, T, 8], got [2, 8]"), e.getMessage());
        var gpt = new Gpt(5, 4, 8, 1, 2, 0, rng);
        e = assertThrows(IllegalArgumentException.class, () -> gpt.forward(Tensor.zeros(1, 5)));
        assertTrue(e.getMessage().contains("sequence length 5 exceeds the context 4"), e.getMessage());
    }

    private static double[] d(Tensor t) {
        float[] f = t.toFloatArray();
        double[] r = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            r[i] = f[i];
        }
        return r;
    }
}
