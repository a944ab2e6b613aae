package dev.mpt.nn;

import dev.mpt.core.LstmOp;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.init.Init;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A multi-layer long short-term memory (Hochreiter and Schmidhuber 1997), PyTorch's formulation
 * and gate order (input i, forget f, cell g, output o):
 * <pre>
 * [i f g o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
 * c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g)
 * h_t = sigmoid(o) tanh(c_t)
 * </pre>
 * Layer {@code l > 0} takes the hidden states of layer {@code l - 1} as its input. Parameters per
 * layer are named as in PyTorch: {@code weight_ih_l0 [4H, in]}, {@code weight_hh_l0 [4H, H]},
 * {@code bias_ih_l0 [4H]}, {@code bias_hh_l0 [4H]}, all initialized {@code U(-1/sqrt(H), 1/sqrt(H))}.
 *
 * <p>Layout: with {@code batchFirst} the input is {@code [batch, time, input]} and the output
 * {@code [batch, time, hidden]}; otherwise both are time-major, {@code [time, batch, ...]}.
 *
 * <p>Each layer is one fused op, {@link LstmOp}: the input projection of all steps in one GEMM, one
 * GEMM and one fused gate loop per step, and backward through time with the weight gradients as
 * GEMMs over the whole sequence.
 *
 * <p>Precision: the gates' dot products run in the weights' dtype (FP16 after {@code to(FP16)})
 * with FP32 accumulation; the gate pre-activations are widened to FP32, the non-linearities and
 * the cell state are FP32, and {@code h} is rounded once to the compute dtype. The returned cell
 * state is FP32 ({@link LstmState}).
 */
public final class Lstm extends Module {

    private final int inputSize;
    private final int hiddenSize;
    private final int numLayers;
    private final boolean batchFirst;
    private final Parameter[] wIh;
    private final Parameter[] wHh;
    private final Parameter[] bIh;
    private final Parameter[] bHh;

    /** A stack of {@code numLayers} LSTM layers initialized from {@code rng}. */
    public Lstm(int inputSize, int hiddenSize, int numLayers, boolean batchFirst, RandomGenerator rng) {
        this.inputSize = LayerChecks.positive("Lstm", "inputSize", inputSize);
        this.hiddenSize = LayerChecks.positive("Lstm", "hiddenSize", hiddenSize);
        this.numLayers = LayerChecks.positive("Lstm", "numLayers", numLayers);
        this.batchFirst = batchFirst;
        LayerChecks.rng("Lstm", rng);
        double k = 1 / Math.sqrt(hiddenSize);
        wIh = new Parameter[numLayers];
        wHh = new Parameter[numLayers];
        bIh = new Parameter[numLayers];
        bHh = new Parameter[numLayers];
        for (int l = 0; l < numLayers; l++) {
            int in = l == 0 ? inputSize : hiddenSize;
            wIh[l] = parameter("weight_ih_l" + l, Init.uniform(rng, -k, k, 4 * hiddenSize, in));
            wHh[l] = parameter("weight_hh_l" + l, Init.uniform(rng, -k, k, 4 * hiddenSize, hiddenSize));
            bIh[l] = parameter("bias_ih_l" + l, Init.uniform(rng, -k, k, 4 * hiddenSize));
            bHh[l] = parameter("bias_hh_l" + l, Init.uniform(rng, -k, k, 4 * hiddenSize));
        }
    }

    /** Hidden size {@code H}. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** Number of stacked layers. */
    public int numLayers() {
        return numLayers;
    }

    /** Whether inputs and outputs are {@code [batch, time, ...]}. */
    public boolean batchFirst() {
        return batchFirst;
    }

    /** A zero state for {@code batch} sequences, {@code h} in the compute dtype, {@code c} in FP32. */
    public LstmState zeroState(int batch) {
        LayerChecks.positive("Lstm", "batch", batch);
        return new LstmState(Tensor.zeros(wIh[0].dtype(), numLayers, batch, hiddenSize),
                Tensor.zeros(DType.FP32, numLayers, batch, hiddenSize));
    }

    /** The output sequence from a zero state. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, null).output();
    }

    /**
     * Runs the sequence {@code x} from {@code state} (null for zeros); returns the output sequence
     * and the final state. Feeding the returned state to the next call continues the sequence:
     * running a sequence in two halves gives the same result as running it whole.
     */
    public LstmOutput forward(Tensor x, LstmState state) {
        LayerChecks.input("Lstm", x);
        LayerChecks.rank("Lstm", x, 3);
        LayerChecks.size("Lstm", x, 2, inputSize, "inputSize");
        DType dt = wIh[0].dtype();
        LayerChecks.sameDtype("Lstm", x, dt);
        int timeDim = batchFirst ? 1 : 0;
        int batch = x.size(batchFirst ? 0 : 1);
        int steps = x.size(timeDim);
        if (steps < 1) {
            throw new IllegalArgumentException("Lstm: the sequence is empty, shape " + Arrays.toString(x.shape()));
        }
        LstmState s0 = state == null ? zeroState(batch) : state;
        int[] want = {numLayers, batch, hiddenSize};
        if (!Arrays.equals(s0.h().shape(), want) || s0.h().dtype() != dt) {
            throw new IllegalArgumentException("Lstm: state h must be " + dt + Arrays.toString(want) + ", got "
                    + s0.h().dtype() + Arrays.toString(s0.h().shape()));
        }
        Tensor[] hOut = new Tensor[numLayers];
        Tensor[] cOut = new Tensor[numLayers];
        // the fused op runs time-major; a batch-first input is passed as a transposed view
        Tensor layerIn = batchFirst ? x.transpose(0, 1) : x;
        for (int l = 0; l < numLayers; l++) {
            LstmOp.Result r = LstmOp.forward(layerIn, s0.h().select(0, l), s0.c().select(0, l), wIh[l].value(),
                    wHh[l].value(), bIh[l].value(), bHh[l].value());
            hOut[l] = r.lastHidden();
            cOut[l] = r.lastCell();
            layerIn = r.output();
        }
        Tensor out = batchFirst ? layerIn.transpose(0, 1).contiguous() : layerIn;
        return new LstmOutput(out, new LstmState(Tensor.stack(0, hOut), Tensor.stack(0, cOut)));
    }

    @Override
    public String toString() {
        return "Lstm(input=" + inputSize + ", hidden=" + hiddenSize + ", layers=" + numLayers + ", batchFirst="
                + batchFirst + ")";
    }
}
