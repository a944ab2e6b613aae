package dev.mpt.nn.eval;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Module;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import java.util.Arrays;
import java.util.Objects;

/**
 * Runs a trained classifier for inference: in evaluation mode (dropout off, normalization on its
 * running statistics; the model's mode is restored afterwards), without recording a graph, with the
 * inputs converted to the model's {@link Module#computeDtype()}, over a dataset in batches.
 *
 * <pre>{@code
 * Predictor p = Predictor.of(model);                 // batches of 256
 * int[] classes = p.classes(test);                   // argmax per sample
 * float[][] probs = p.probabilities(test);           // softmax per sample, FP32
 * ConfusionMatrix cm = p.confusionMatrix(test);      // precision / recall / F1 per class
 * double top3 = p.topKAccuracy(test, 3);
 * }</pre>
 *
 * <p>Logits are returned as FP32 (an FP16 model's logits widened exactly); probabilities are the
 * FP32 softmax of the logits (max-subtracted, sums accumulated in FP32).
 */
public final class Predictor {

    /** Default inference batch: large enough to amortize per-op overhead, small in memory. */
    public static final int DEFAULT_BATCH_SIZE = 256;

    private final Module model;
    private final int batchSize;

    private Predictor(Module model, int batchSize) {
        this.model = model;
        this.batchSize = batchSize;
    }

    /** A predictor over {@code model} with batches of {@value #DEFAULT_BATCH_SIZE}. */
    public static Predictor of(Module model) {
        return of(model, DEFAULT_BATCH_SIZE);
    }

    /** A predictor over {@code model} with batches of {@code batchSize} (>= 1). */
    public static Predictor of(Module model, int batchSize) {
        Objects.requireNonNull(model, "Predictor.of: model");
        if (batchSize < 1) {
            throw new IllegalArgumentException("Predictor.of: batchSize must be >= 1, got " + batchSize);
        }
        return new Predictor(model, batchSize);
    }

    /**
     * The model's output for one batch of inputs ({@code [n, ...]}, any dtype), as an FP32 tensor
     * of shape {@code [n, classes]}; no graph is recorded.
     *
     * @throws IllegalArgumentException when the output is not two-dimensional
     */
    public Tensor logits(Tensor inputs) {
        Objects.requireNonNull(inputs, "Predictor.logits: inputs");
        boolean wasTraining = model.isTraining();
        model.eval();
        try (NoGrad scope = NoGrad.enter()) {
            Tensor out = model.forward(inputs.to(model.computeDtype())).to(DType.FP32);
            if (out.shape().length != 2) {
                throw new IllegalArgumentException("Predictor: the model's output has shape "
                        + Arrays.toString(out.shape()) + ", expected [batch, classes]");
            }
            return out;
        } finally {
            if (wasTraining) {
                model.train();
            }
        }
    }

    /** The logits of every sample of {@code data}, {@code [size][classes]}, computed batch by batch. */
    public float[][] logits(Dataset data) {
        Objects.requireNonNull(data, "Predictor.logits: data");
        float[][] out = new float[data.size()][];
        int i = 0;
        for (Batch b : data.batches(batchSize)) {
            float[] v = logits(b.inputs()).toFloatArray();
            int classes = v.length / b.size();
            for (int r = 0; r < b.size(); r++) {
                out[i++] = Arrays.copyOfRange(v, r * classes, (r + 1) * classes);
            }
        }
        return out;
    }

    /** The softmax probabilities of every sample of {@code data}, {@code [size][classes]}, FP32. */
    public float[][] probabilities(Dataset data) {
        float[][] logits = logits(data);
        for (float[] row : logits) {
            softmaxInPlace(row);
        }
        return logits;
    }

    /** The softmax of one batch's logits, FP32 {@code [n, classes]}. */
    public Tensor probabilities(Tensor inputs) {
        return logits(inputs).softmax(1);
    }

    /** The predicted class (first largest logit) of every sample of one batch. */
    public int[] classes(Tensor inputs) {
        float[] v = logits(inputs).toFloatArray();
        int n = inputs.shape()[0];
        int[] out = new int[n];
        int classes = v.length / n;
        for (int r = 0; r < n; r++) {
            out[r] = argmax(v, r * classes, classes);
        }
        return out;
    }

    /** The predicted class (first largest logit) of every sample of {@code data}. */
    public int[] classes(Dataset data) {
        float[][] logits = logits(data);
        int[] out = new int[logits.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = argmax(logits[i], 0, logits[i].length);
        }
        return out;
    }

    /**
     * The confusion matrix of the model's predictions on {@code data} against its labels.
     *
     * @throws IllegalArgumentException when the model has fewer outputs than the data's classes
     */
    public ConfusionMatrix confusionMatrix(Dataset data) {
        float[][] logits = logits(data);
        checkClasses("confusionMatrix", logits, data);
        int[] predicted = new int[logits.length];
        for (int i = 0; i < predicted.length; i++) {
            predicted[i] = argmax(logits[i], 0, logits[i].length);
        }
        int classes = Math.max(data.numClasses(), logits.length == 0 ? 0 : logits[0].length);
        return ConfusionMatrix.of(data.labels(), predicted, classes);
    }

    /** The fraction of samples whose label is among the {@code k} largest logits; see {@link TopK}. */
    public double topKAccuracy(Dataset data, int k) {
        float[][] logits = logits(data);
        checkClasses("topKAccuracy", logits, data);
        return TopK.accuracy(logits, data.labels(), k);
    }

    private static void checkClasses(String op, float[][] logits, Dataset data) {
        if (logits.length > 0 && logits[0].length < data.numClasses()) {
            throw new IllegalArgumentException("Predictor." + op + ": the model has " + logits[0].length
                    + " outputs but the data has " + data.numClasses() + " classes");
        }
    }

    static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int c = 1; c < n; c++) {
            if (v[off + c] > v[off + best]) {
                best = c;
            }
        }
        return best;
    }

    /** {@code p_c = exp(z_c - max z) / sum_j exp(z_j - max z)}, FP32 exp, sum accumulated in FP32. */
    private static void softmaxInPlace(float[] z) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        float sum = 0;
        for (int c = 0; c < z.length; c++) {
            z[c] = (float) Math.exp(z[c] - max);
            sum += z[c];
        }
        for (int c = 0; c < z.length; c++) {
            z[c] /= sum;
        }
    }

    @Override
    public String toString() {
        return "Predictor[model=" + model.getClass().getSimpleName() + ", batchSize=" + batchSize + "]";
    }
}
