package dev.mpt.optim.train;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Module;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.loss.Loss;

/** Classification accuracy and mean loss of a model over a dataset ({@link Trainer#evaluate}). */
final class Evaluator {

    private Evaluator() {
    }

    /**
     * Runs {@code model} in eval mode without recording gradients over {@code data} in batches of
     * {@code batchSize}, inputs converted to {@code inputDtype}; restores the model's mode.
     * The loss sum is accumulated in double, each batch's FP32 mean loss weighted by its size.
     */
    static Evaluation evaluate(Module model, Loss<int[]> loss, DType inputDtype, Dataset data, int batchSize) {
        boolean wasTraining = model.isTraining();
        model.eval();
        double lossSum = 0;
        long correct = 0;
        try (NoGrad scope = NoGrad.enter()) {
            for (Batch b : data.batches(batchSize)) {
                Tensor out = model.forward(BatchChecks.toModelDtype("Trainer.evaluate",
                        Tensor.of(b.features(), b.inputShape()), inputDtype));
                BatchChecks.labels("Trainer.evaluate", out, b.labels());
                lossSum += (double) loss.apply(out, b.labels()).item() * b.size();
                correct += countCorrect(out, b.labels());
            }
        } finally {
            if (wasTraining) {
                model.train();
            }
        }
        return new Evaluation((double) correct / data.size(), lossSum / data.size(), data.size());
    }

    /** Rows of {@code out} whose first largest value is at the label. */
    private static long countCorrect(Tensor out, int[] labels) {
        float[] v = out.toFloatArray();
        int classes = v.length / labels.length;
        long correct = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (v[i * classes + c] > v[i * classes + best]) {
                    best = c;
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return correct;
    }
}
