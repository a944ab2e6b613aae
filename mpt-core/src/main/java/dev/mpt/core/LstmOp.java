package dev.mpt.core;

import dev.mpt.core.number.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * One LSTM layer over a whole sequence as one fused, differentiable op (PyTorch's formulation and
 * gate order i, f, g, o):
 * <pre>
 * [i f g o]_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
 * c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g)
 * h_t = sigmoid(o) tanh(c_t)
 * </pre>
 * The input projection of all steps is one GEMM, the recurrent product one GEMM per step (over
 * W_hh packed once per sequence, {@link dev.mpt.core.kernel.PackedB}), and the gate and cell math
 * one fused loop per step, each task of a step doing its batch rows of both; backward runs through
 * time with fused gate derivatives and computes {@code dx}, {@code dW_ih}, {@code dW_hh} as one GEMM
 * each over the whole sequence. One autograd node stands for the whole layer instead of some fifteen per step.
 *
 * <p>Precision: the dot products read the weights' dtype (FP16, BF16 or FP32) and accumulate in
 * FP32; each product and each bias sum is rounded to that dtype, as the composed ops
 * ({@code matmul}, {@code add}) round them, so the pre-activations are bit-identical to the
 * composed chain {@code x.matmul(wIh.t()).add(bIh)}, {@code h.matmul(wHh.t()).add(bHh)}, sum,
 * {@code to(FP32)}. The non-linearities are evaluated in FP32 arithmetic by
 * {@link dev.mpt.core.kernel.FloatMath} (relative error below 7 * 2^-24, where the composed
 * {@code sigmoid}/{@code tanh} evaluate in double and round once; a vector at a time, the double
 * versions were a third of a char-lstm step); the cell state is FP32; {@code h} is rounded once to
 * the dtype. In backward the gradients
 * of {@code h} and of the gate pre-activations are rounded to the dtype (the activation gradients
 * of the paper's FP16 backward pass; Micikevicius et al. 2018, section 3), the cell gradient stays
 * FP32, and the gate derivatives use the stored FP32 activations ({@code s (1 - s)},
 * {@code 1 - t^2}). Results do not depend on the number of threads.
 *
 * <p>NaN and infinities propagate as IEEE arithmetic says; they are not refused.
 */
public final class LstmOp {

    private LstmOp() {
    }

    /**
     * The op's results.
     *
     * @param output the hidden states of every step, {@code [T, B, H]} in the input's dtype
     * @param lastHidden {@code h_{T-1}}, {@code [B, H]}: a view of the output's last step
     * @param lastCell {@code c_{T-1}}, FP32 {@code [B, H]}, differentiable on its own
     */
    public record Result(Tensor output, Tensor lastHidden, Tensor lastCell) {
    }

    /**
     * Runs one layer over the time-major sequence {@code x [T, B, in]} from state {@code (h0, c0)}.
     *
     * @param x   input {@code [T, B, in]}, T and B at least 1, FP32, FP16 or BF16
     * @param h0  initial hidden state {@code [B, H]}, x's dtype
     * @param c0  initial cell state {@code [B, H]}, FP32
     * @param wIh input weights {@code [4H, in]}, x's dtype
     * @param wHh recurrent weights {@code [4H, H]}, x's dtype
     * @param bIh input bias {@code [4H]}, x's dtype
     * @param bHh recurrent bias {@code [4H]}, x's dtype
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException on a wrong rank, size or dtype, naming the argument
     */
    public static Result forward(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
        check(x, h0, c0, wIh, wHh, bIh, bHh);
        Tensor xc = x.contiguous();
        Tensor wi = wIh.contiguous();
        Tensor wh = wHh.contiguous();
        LstmSequence seq = LstmSequence.forward(xc, h0, c0, wi, wh, bIh, bHh);
        Tensor out = Autograd.record(seq.output(), "lstm", g -> grads(seq, g, null, xc, h0, c0, wi, wh, bIh, bHh),
                xc, h0, c0, wi, wh, bIh, bHh);
        Tensor cLast = Autograd.record(seq.lastCell(), "lstm cell state",
                g -> grads(seq, null, g, xc, h0, c0, wi, wh, bIh, bHh), xc, h0, c0, wi, wh, bIh, bHh);
        return new Result(out, out.select(0, seq.steps - 1), cLast);
    }

    private static Tensor[] grads(LstmSequence seq, Tensor dOut, Tensor dcLast, Tensor... inputs) {
        boolean needW = Autograd.needs(inputs[3]) || Autograd.needs(inputs[4]) || Autograd.needs(inputs[5])
                || Autograd.needs(inputs[6]);
        LstmSequence.Grads g = seq.backward(dOut == null ? null : dOut.floats, dOut == null ? 0 : dOut.offset,
                dcLast == null ? null : dcLast.floats, dcLast == null ? 0 : dcLast.offset,
                Autograd.needs(inputs[0]), Autograd.needs(inputs[1]), Autograd.needs(inputs[2]), needW);
        return new Tensor[] {g.x(), g.h0(), g.c0(), g.wIh(), g.wHh(), g.bias(), g.bias()};
    }

    private static void check(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
        Objects.requireNonNull(x, "lstm: 'x' is null");
        Objects.requireNonNull(h0, "lstm: 'h0' is null");
        Objects.requireNonNull(c0, "lstm: 'c0' is null");
        Objects.requireNonNull(wIh, "lstm: 'wIh' is null");
        Objects.requireNonNull(wHh, "lstm: 'wHh' is null");
        Objects.requireNonNull(bIh, "lstm: 'bIh' is null");
        Objects.requireNonNull(bHh, "lstm: 'bHh' is null");
        if (x.shape.length != 3 || x.shape[0] < 1 || x.shape[1] < 1) {
            throw new IllegalArgumentException("lstm: 'x' must be [T, B, in] with T, B >= 1, got "
                    + Arrays.toString(x.shape));
        }
        if (wHh.shape.length != 2 || wHh.shape[0] != 4 * wHh.shape[1] || wHh.shape[1] < 1) {
            throw new IllegalArgumentException("lstm: 'wHh' must be [4H, H] with H >= 1, got "
                    + Arrays.toString(wHh.shape));
        }
        int t = x.shape[0];
        int b = x.shape[1];
        int in = x.shape[2];
        int h = wHh.shape[1];
        shape("wIh", wIh, 4 * h, in);
        shape("bIh", bIh, 4 * h);
        shape("bHh", bHh, 4 * h);
        shape("h0", h0, b, h);
        shape("c0", c0, b, h);
        DType dt = x.dtype;
        dtype("h0", h0, dt);
        dtype("wIh", wIh, dt);
        dtype("wHh", wHh, dt);
        dtype("bIh", bIh, dt);
        dtype("bHh", bHh, dt);
        dtype("c0", c0, DType.FP32);
        if ((long) t * b * 4 * h > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("lstm: T*B*4H = " + t + "*" + b + "*" + 4 * h
                    + " exceeds the largest array");
        }
    }

    private static void shape(String name, Tensor a, int... want) {
        if (!Arrays.equals(a.shape, want)) {
            throw new IllegalArgumentException("lstm: '" + name + "' must have shape " + Arrays.toString(want)
                    + ", got " + Arrays.toString(a.shape));
        }
    }

    private static void dtype(String name, Tensor a, DType want) {
        if (a.dtype != want) {
            throw new IllegalArgumentException("lstm: '" + name + "' must be " + want + ", got " + a.dtype);
        }
    }
}
