package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LstmTest {

    private static final double U16 = 0x1p-11;
    private static final double U32 = 0x1p-24;

    @Test
    void gradientsThroughTwoLayersAndTime() {
        var rng = new SplittableRandom(1);
        var lstm = new Lstm(3, 2, 2, true, rng);
        Parameter whh = lstm.namedParameters().get("weight_hh_l0");
        Parameter wih1 = lstm.namedParameters().get("weight_ih_l1");
        GradCheck.assertGradients(in -> {
            whh.set(in[1]);
            wih1.set(in[2]);
            return lstm.forward(in[0]);
        }, Tensor.randn(rng, DType.FP32, 2, 3, 3), whh.value().detach(), wih1.value().detach());
        // gradient into the initial state as well
        GradCheck.assertGradients(in -> lstm.forward(in[0], new LstmState(in[1], in[2])).state().c(),
                Tensor.randn(rng, DType.FP32, 2, 3, 3), Tensor.randn(rng, DType.FP32, 2, 2, 2),
                Tensor.randn(rng, DType.FP32, 2, 2, 2));
    }

    @Test
    void runningInTwoHalvesEqualsRunningWhole() {
        for (DType dt : new DType[] {DType.FP32, DType.FP16}) {
            var lstm = new Lstm(4, 5, 2, true, new SplittableRandom(2)).to(dt);
            Tensor x = Tensor.randn(new SplittableRandom(3), DType.FP32, 3, 8, 4).to(dt);
            LstmOutput whole = ((Lstm) lstm).forward(x, null);
            LstmOutput first = ((Lstm) lstm).forward(x.narrow(1, 0, 5).contiguous(), null);
            LstmOutput second = ((Lstm) lstm).forward(x.narrow(1, 5, 3).contiguous(), first.state());
            // the same operations on the same values in the same order: identical bits
            assertArrayEquals(whole.output().narrow(1, 5, 3).toFloatArray(), second.output().toFloatArray(), dt.toString());
            assertArrayEquals(whole.output().narrow(1, 0, 5).toFloatArray(), first.output().toFloatArray());
            assertArrayEquals(whole.state().h().toFloatArray(), second.state().h().toFloatArray());
            assertArrayEquals(whole.state().c().toFloatArray(), second.state().c().toFloatArray());
            assertEquals(dt, whole.output().dtype());
            assertEquals(dt, whole.state().h().dtype());
            assertEquals(DType.FP32, whole.state().c().dtype());
            assertArrayEquals(new int[] {2, 3, 5}, whole.state().h().shape());
        }
    }

    @Test
    void batchFirstAndTimeMajorAgree() {
        var bf = new Lstm(3, 4, 1, true, new SplittableRandom(4));
        var tm = new Lstm(3, 4, 1, false, new SplittableRandom(4));
        Tensor x = Tensor.randn(new SplittableRandom(5), DType.FP32, 2, 6, 3);
        Tensor a = bf.forward(x);
        Tensor b = tm.forward(x.transpose(0, 1).contiguous());
        assertArrayEquals(new int[] {2, 6, 4}, a.shape());
        assertArrayEquals(a.toFloatArray(), b.transpose(0, 1).contiguous().toFloatArray());
    }

    private static double sig(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /**
     * One FP16 layer against a double LSTM on the same FP16 weights and inputs, with an error bound
     * carried along the sequence. Per gate pre-activation k (S_k = sum |x W_ih| + |b_ih| + sum |h W_hh|
     * + |b_hh|): the two GEMMs accumulate in FP32 (in 2^-24 S each) and round to FP16, the bias adds and
     * the sum round to FP16: at most 5 roundings of 2^-11 relative to S_k, plus the propagated error
     * sum_j |W_hh kj| e_h(j). sigmoid and tanh are 1/4- and 1-Lipschitz; then
     * e_c = e_f |c_prev| + f e_cprev + e_i |g| + i e_g (+ FP32 roundings), and
     * e_h = e_o |tanh c| + o e_c + 2^-11 |h| (the FP16 rounding of h), each with a few 2^-24 terms.
     */
    @Test
    void halfPrecisionWithinACarriedBound() {
        int in = 3;
        int hs = 4;
        int steps = 12;
        var lstm = new Lstm(in, hs, 1, true, new SplittableRandom(6));
        lstm.to(DType.FP16);
        Tensor x = Tensor.randn(new SplittableRandom(7), DType.FP32, 1, steps, in).to(DType.FP16);
        float[] y = lstm.forward(x).toFloatArray();
        float[] wih = lstm.namedParameters().get("weight_ih_l0").value().toFloatArray();
        float[] whh = lstm.namedParameters().get("weight_hh_l0").value().toFloatArray();
        float[] bih = lstm.namedParameters().get("bias_ih_l0").value().toFloatArray();
        float[] bhh = lstm.namedParameters().get("bias_hh_l0").value().toFloatArray();
        float[] xs = x.toFloatArray();
        double[] h = new double[hs];
        double[] c = new double[hs];
        double[] eh = new double[hs];
        double[] ec = new double[hs];
        double worst = 0;
        for (int t = 0; t < steps; t++) {
            double[] z = new double[4 * hs];
            double[] ez = new double[4 * hs];
            for (int k = 0; k < 4 * hs; k++) {
                double s = Math.abs(bih[k]) + Math.abs(bhh[k]);
                z[k] = bih[k] + bhh[k];
                for (int j = 0; j < in; j++) {
                    z[k] += (double) xs[t * in + j] * wih[k * in + j];
                    s += Math.abs((double) xs[t * in + j] * wih[k * in + j]);
                }
                double prop = 0;
                for (int j = 0; j < hs; j++) {
                    z[k] += h[j] * whh[k * hs + j];
                    s += Math.abs(h[j] * whh[k * hs + j]);
                    prop += Math.abs(whh[k * hs + j]) * eh[j];
                }
                ez[k] = 5 * U16 * (s + prop) + (in + hs) * U32 * s + prop;
            }
            double[] hn = new double[hs];
            for (int j = 0; j < hs; j++) {
                double i = sig(z[j]);
                double f = sig(z[hs + j]);
                double g = Math.tanh(z[2 * hs + j]);
                double o = sig(z[3 * hs + j]);
                double ei = ez[j] / 4 + 4 * U32;
                double ef = ez[hs + j] / 4 + 4 * U32;
                double eg = ez[2 * hs + j] + 4 * U32;
                double eo = ez[3 * hs + j] / 4 + 4 * U32;
                double cn = f * c[j] + i * g;
                ec[j] = ef * Math.abs(c[j]) + (f + ef) * ec[j] + ei * Math.abs(g) + (i + ei) * eg + 4 * U32 * (Math.abs(cn) + 1);
                c[j] = cn;
                hn[j] = o * Math.tanh(cn);
                eh[j] = eo * Math.abs(Math.tanh(cn)) + (o + eo) * ec[j] + U16 * (Math.abs(hn[j]) + eh[j]) + 4 * U32;
                double err = Math.abs(y[t * hs + j] - hn[j]);
                assertTrue(err <= eh[j], "step " + t + " unit " + j + ": " + y[t * hs + j] + " vs " + hn[j] + ", bound "
                        + eh[j]);
                worst = Math.max(worst, err / eh[j]);
            }
            h = hn;
        }
        assertTrue(worst > 0, "the FP16 path rounds somewhere");
    }

    @Test
    void badInputsAndStates() {
        var lstm = new Lstm(3, 4, 2, true, new SplittableRandom(8));
        assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.ones(2, 3)));
        assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.ones(2, 5, 4)));
        assertThrows(IllegalArgumentException.class, () -> lstm.forward(Tensor.ones(DType.FP16, 2, 5, 3)));
        var e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(Tensor.ones(2, 5, 3), lstm.zeroState(3)));
        assertTrue(e.getMessage().contains("state h"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new LstmState(Tensor.zeros(2, 2, 4), Tensor.zeros(DType.FP16, 2, 2, 4)));
        assertThrows(IllegalArgumentException.class, () -> new LstmState(Tensor.zeros(2, 2, 4), Tensor.zeros(2, 4)));
        assertThrows(IllegalArgumentException.class, () -> new Lstm(0, 4, 1, true, new SplittableRandom(1)));
        assertThrows(NullPointerException.class, () -> new Lstm(3, 4, 1, true, null));
        assertEquals(java.util.List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1",
                "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"), java.util.List.copyOf(lstm.namedParameters().keySet()));
    }
}
