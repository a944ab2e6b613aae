package dev.mpt.optim.train;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Module;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.TargetBatch;
import dev.mpt.nn.data.TargetDataset;
import dev.mpt.nn.loss.Loss;
import java.util.function.Supplier;

/**
 * Mean loss (and, for class labels, accuracy) of a model over a dataset ({@link Trainer#evaluate}),
 * and the one-sample forward pass with which {@link Trainer#fit} checks the model's output shape.
 */
final class Evaluator {

    private Evaluator() {
    }

    /**
     * Runs {@code model} in eval mode without recording gradients over {@code data} in batches of
     * {@code batchSize}, inputs converted to {@code inputDtype}; restores the model's mode.
     * The loss sum is accumulated in double, each batch's FP32 mean loss weighted by its size.
     */
    static Evaluation evaluate(Module model, Loss<int[]> loss, DType inputDtype, Dataset data, int batchSize) {
        return inEvalMode(model, () -> {
            double lossSum = 0;
            long correct = 0;
            for (Batch b : data.batches(batchSize)) {
                Tensor out = model.forward(BatchChecks.toModelDtype("Trainer.evaluate",
                        Tensor.of(b.features(), b.inputShape()), inputDtype));
                BatchChecks.classes("Trainer.evaluate", out, b.size(), data.numClasses());
                lossSum += (double) loss.apply(out, b.labels()).item() * b.size();
                correct += countCorrect(out, b.labels());
            }
            return new Evaluation((double) correct / data.size(), lossSum / data.size(), data.size());
        });
    }

    /**
     * As {@link #evaluate(Module, Loss, DType, Dataset, int)} for float targets: the mean loss,
     * accumulated the same way; the accuracy is NaN.
     */
    static Evaluation evaluate(Module model, Loss<Tensor> loss, DType inputDtype, TargetDataset data, int batchSize) {
        return inEvalMode(model, () -> {
            double lossSum = 0;
            for (TargetBatch b : data.batches(batchSize)) {
                Tensor out = model.forward(BatchChecks.toModelDtype("Trainer.evaluate", b.inputs(), inputDtype));
                BatchChecks.targetShape("Trainer.evaluate", out, b.size(), data.targetShape());
                lossSum += (double) loss.apply(out, b.targets()).item() * b.size();
            }
            return new Evaluation(Double.NaN, lossSum / data.size(), data.size());
        });
    }

    /**
     * The model's output for {@code input} in eval mode without recording gradients: no buffer,
     * gradient or random generator changes.
     */
    static Tensor probe(Module model, DType inputDtype, Tensor input) {
        return inEvalMode(model, () -> model.forward(BatchChecks.toModelDtype("Trainer.fit", input, inputDtype)));
    }

    /** Runs {@code body} with the model in eval mode inside a {@link NoGrad} scope, then restores the mode. */
    private static <T> T inEvalMode(Module model, Supplier<T> body) {
        boolean wasTraining = model.isTraining();
        model.eval();
        try (NoGrad scope = NoGrad.enter()) {
            return body.get();
        } finally {
            if (wasTraining) {
                model.train();
            }
        }
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
