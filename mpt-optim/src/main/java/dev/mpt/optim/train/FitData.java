package dev.mpt.optim.train;

import dev.mpt.core.Tensor;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.TargetBatch;
import dev.mpt.nn.data.TargetDataset;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * What {@link FitLoop} needs of a dataset, for each of the two kinds a {@link Trainer} trains on:
 * its batches, the trainer's step and evaluation for them, and the checks of the data against
 * itself and the model's output.
 *
 * @param <B> the batch type
 */
sealed interface FitData<B> {

    /** Number of samples. */
    int size();

    /** Whether the targets are class labels (then validation has an accuracy). */
    boolean classification();

    /** One pass in batches of {@code batchSize}, shuffled from {@code rng} unless it is null. */
    Iterable<B> batches(int batchSize, RandomGenerator rng);

    /** The number of samples of a batch. */
    int samples(B batch);

    /** The trainer's step on one batch. */
    StepResult step(Trainer trainer, B batch);

    /** The trainer's evaluation of this data. */
    Evaluation evaluate(Trainer trainer, int batchSize);

    /** The first sample as a batch of one, shaped {@code [1, featureShape...]}. */
    Tensor firstInput();

    /** Refuses a model output (for {@code samples} samples) that does not fit these targets. */
    void checkOutput(String op, Tensor out, int samples);

    /** Refuses validation data whose samples or targets are shaped otherwise than these. */
    void checkValidation(String op, FitData<?> validation);

    /** {@code features} as a tensor of shape {@code [1, featureShape...]}. */
    private static Tensor one(float[] features, int[] featureShape) {
        int[] shape = new int[featureShape.length + 1];
        shape[0] = 1;
        System.arraycopy(featureShape, 0, shape, 1, featureShape.length);
        return Tensor.of(features, shape);
    }

    /** Class labels from a {@link Dataset}. */
    record Labels(Dataset data) implements FitData<Batch> {
        @Override
        public int size() {
            return data.size();
        }

        @Override
        public boolean classification() {
            return true;
        }

        @Override
        public Iterable<Batch> batches(int batchSize, RandomGenerator rng) {
            return rng == null ? data.batches(batchSize) : data.batches(batchSize, rng);
        }

        @Override
        public int samples(Batch batch) {
            return batch.size();
        }

        @Override
        public StepResult step(Trainer trainer, Batch batch) {
            return trainer.step(batch);
        }

        @Override
        public Evaluation evaluate(Trainer trainer, int batchSize) {
            return trainer.evaluate(data, batchSize);
        }

        @Override
        public Tensor firstInput() {
            return one(data.features(0), data.featureShape());
        }

        @Override
        public void checkOutput(String op, Tensor out, int samples) {
            BatchChecks.classes(op, out, samples, data.numClasses());
        }

        @Override
        public void checkValidation(String op, FitData<?> validation) {
            if (!(validation instanceof Labels(Dataset v))) {
                throw new IllegalArgumentException(op + ": the validation data must be a Dataset like the training data");
            }
            if (!Arrays.equals(v.featureShape(), data.featureShape())) {
                throw new IllegalArgumentException(op + ": validation samples have featureShape "
                        + Arrays.toString(v.featureShape()) + ", training samples " + Arrays.toString(data.featureShape()));
            }
            if (v.numClasses() != data.numClasses()) {
                throw new IllegalArgumentException(op + ": the validation data has " + v.numClasses()
                        + " classes, the training data " + data.numClasses());
            }
        }
    }

    /** Float targets from a {@link TargetDataset}. */
    record Targets(TargetDataset data) implements FitData<TargetBatch> {
        @Override
        public int size() {
            return data.size();
        }

        @Override
        public boolean classification() {
            return false;
        }

        @Override
        public Iterable<TargetBatch> batches(int batchSize, RandomGenerator rng) {
            return data.batches(batchSize, rng);
        }

        @Override
        public int samples(TargetBatch batch) {
            return batch.size();
        }

        @Override
        public StepResult step(Trainer trainer, TargetBatch batch) {
            return trainer.step(batch);
        }

        @Override
        public Evaluation evaluate(Trainer trainer, int batchSize) {
            return trainer.evaluate(data, batchSize);
        }

        @Override
        public Tensor firstInput() {
            return one(data.features(0), data.featureShape());
        }

        @Override
        public void checkOutput(String op, Tensor out, int samples) {
            BatchChecks.targetShape(op, out, samples, data.targetShape());
        }

        @Override
        public void checkValidation(String op, FitData<?> validation) {
            if (!(validation instanceof Targets(TargetDataset v))) {
                throw new IllegalArgumentException(op + ": the validation data must be a TargetDataset like the "
                        + "training data");
            }
            if (!Arrays.equals(v.featureShape(), data.featureShape())) {
                throw new IllegalArgumentException(op + ": validation samples have featureShape "
                        + Arrays.toString(v.featureShape()) + ", training samples " + Arrays.toString(data.featureShape()));
            }
            if (!Arrays.equals(v.targetShape(), data.targetShape())) {
                throw new IllegalArgumentException(op + ": validation targets have targetShape "
                        + Arrays.toString(v.targetShape()) + ", training targets " + Arrays.toString(data.targetShape()));
            }
        }
    }
}
