package dev.mpt.optim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mpt.core.Tensor;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.TargetDataset;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input to fit, evaluate and the callbacks fails before any step, with a message naming it. */
class FitFailuresTest {

    /** 6 samples of 4 features, 5 classes. */
    private static final Dataset FIVE = Dataset.ofRows(new float[][] {
        {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {1, 1, 0, 0}, {0, 1, 1, 0}},
            new int[] {0, 1, 2, 3, 4, 0}, 5);
    private static final TargetDataset REGRESSION = TargetDataset.regression(
            new float[][] {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, new float[] {1, 2, 3});

    /** A trainer of a {@code 4 -> outputs} model, with both losses. */
    private static Trainer trainer(int outputs) {
        return Trainer.builder(new Sequential(new Linear(4, outputs, SplitMix64.seeded(1))))
                .optimizer(new Sgd(0.1)).loss(Losses::crossEntropy).targetLoss(Losses::mse).logEvery(0).build();
    }

    private static void fails(Class<? extends Throwable> type, String message, Executable call) {
        Throwable e = assertThrows(type, call);
        assertEquals(message, e.getMessage());
    }

    @Test
    void aTenWayModelOnFiveClassesIsRefusedBeforeAnyStep() {
        Trainer t = trainer(10);
        int[] before = TestModels.rawBits(t.model().parameters().getFirst().value());
        String msg = "Trainer.fit: the model outputs 10 classes but the dataset has 5; give the model's last layer 5 "
                + "outputs, or build the dataset with numClasses 10";
        fails(IllegalArgumentException.class, msg, () -> t.fit(FIVE, 1));
        assertEquals(0, t.steps());
        assertArrayEquals(before, TestModels.rawBits(t.model().parameters().getFirst().value()));
        fails(IllegalArgumentException.class, msg.replace("Trainer.fit", "Trainer.evaluate"), () -> t.evaluate(FIVE));
        // a model narrower than the classes too
        fails(IllegalArgumentException.class, "Trainer.fit: the model outputs 3 classes but the dataset has 5; give "
                + "the model's last layer 5 outputs, or build the dataset with numClasses 3", () -> trainer(3).fit(FIVE, 1));
    }

    @Test
    void targetsOfAnotherShapeThanTheOutputAreRefused() {
        fails(IllegalArgumentException.class, "Trainer.fit: the model's output has shape [1, 2] but the targets of 1 "
                + "samples have shape [1, 1] (targetShape [1] per sample)", () -> trainer(2).fit(REGRESSION, 1));
        fails(IllegalArgumentException.class, "Trainer.evaluate: the model's output has shape [3, 2] but the targets of "
                + "3 samples have shape [3, 1] (targetShape [1] per sample)", () -> trainer(2).evaluate(REGRESSION));
    }

    @Test
    void badFitArguments() {
        Trainer t = trainer(5);
        fails(IllegalArgumentException.class, "Trainer.fit: epochs must be >= 1, got 0", () -> t.fit(FIVE, 0));
        fails(IllegalArgumentException.class, "Trainer.fit: epochs must be >= 1, got -3", () -> FitOptions.of(-3));
        fails(NullPointerException.class, "Trainer.fit: train is null", () -> t.fit((Dataset) null, 1));
        fails(NullPointerException.class, "Trainer.fit: train is null", () -> t.fit((TargetDataset) null, 1));
        fails(NullPointerException.class, "Trainer.fit: validation is null (use fit(train, epochs) without it)",
                () -> t.fit(FIVE, 1, (Dataset) null));
        fails(NullPointerException.class, "Trainer.fit: options is null", () -> t.fit(FIVE, FIVE, null));
        Dataset empty = Dataset.of(new float[0], new int[0], new int[] {4}, 5);
        fails(IllegalArgumentException.class, "Trainer.fit: the training data is empty", () -> t.fit(empty, 1));
        fails(IllegalArgumentException.class, "Trainer.fit: the validation data is empty", () -> t.fit(FIVE, 1, empty));
        Dataset sixClasses = Dataset.ofRows(new float[][] {{1, 0, 0, 0}}, new int[] {5}, 6);
        fails(IllegalArgumentException.class, "Trainer.fit: the validation data has 6 classes, the training data 5",
                () -> t.fit(FIVE, 1, sixClasses));
        Dataset wide = Dataset.ofRows(new float[][] {{1, 0, 0, 0, 0}}, new int[] {0}, 5);
        fails(IllegalArgumentException.class, "Trainer.fit: validation samples have featureShape [5], training "
                + "samples [4]", () -> t.fit(FIVE, 1, wide));
        fails(IllegalArgumentException.class, "FitOptions.batchSize: size must be >= 1, got 0",
                () -> FitOptions.of(1).batchSize(0));
        fails(IllegalArgumentException.class, "FitOptions.evalBatchSize: size must be >= 1, got -1",
                () -> FitOptions.of(1).evalBatchSize(-1));
        fails(NullPointerException.class, "FitOptions.callbacks: callback 1 is null",
                () -> FitOptions.of(1).callbacks(new EarlyStopping(Metric.TRAIN_LOSS, 1), null));
        fails(IllegalArgumentException.class, "Trainer.setLearningRateFactor: factor must be finite and > 0, got 0.0",
                () -> t.setLearningRateFactor(0));
        assertEquals(0, t.steps());
    }

    @Test
    void aMissingLossIsNamed() {
        Trainer labelsOnly = Trainer.builder(new Sequential(new Linear(4, 1, SplitMix64.seeded(1))))
                .optimizer(new Sgd(0.1)).loss(Losses::crossEntropy).logEvery(0).build();
        fails(IllegalStateException.class, "Trainer.fit: this trainer has no loss for float targets; set one with "
                + ".targetLoss(Losses::mse) or .targetLoss(Losses::bceWithLogits) in its builder",
                () -> labelsOnly.fit(REGRESSION, 1));
        fails(IllegalStateException.class, "Trainer.step: this trainer has no loss for float targets; set one with "
                + ".targetLoss(Losses::mse) or .targetLoss(Losses::bceWithLogits) in its builder",
                () -> labelsOnly.step(Tensor.of(new float[4], 1, 4), Tensor.of(new float[1], 1, 1)));
        Trainer targetsOnly = Trainer.builder(new Sequential(new Linear(4, 5, SplitMix64.seeded(1))))
                .optimizer(new Sgd(0.1)).targetLoss(Losses::mse).logEvery(0).build();
        fails(IllegalStateException.class, "Trainer.evaluate: this trainer has no loss for class labels; set one with "
                + ".loss(Losses::crossEntropy) in its builder (it has .targetLoss for float targets)",
                () -> targetsOnly.evaluate(FIVE));
        fails(IllegalStateException.class, "Trainer.Builder.build: no loss function; call .loss(Losses::crossEntropy) "
                + "(a Loss<int[]>, for class labels) or .targetLoss(Losses::mse) (a Loss<Tensor>, for float targets)",
                () -> Trainer.builder(TestModels.mlp(4, 4, 2, 1)).optimizer(new Sgd(0.1)).build());
    }

    @Test
    void badTargetBatches() {
        Trainer t = trainer(1);
        fails(IllegalArgumentException.class, "Trainer.step: inputs of shape [2, 4] for targets of shape [3, 1]; the "
                + "first dimension of both must be the number of samples",
                () -> t.step(Tensor.of(new float[8], 2, 4), Tensor.of(new float[3], 3, 1)));
        fails(IllegalArgumentException.class, "Trainer.step: targets hold NaN or infinite values",
                () -> t.step(Tensor.of(new float[4], 1, 4), Tensor.of(new float[] {Float.NaN}, 1, 1)));
        assertEquals(0, t.steps());
    }

    @Test
    void badCallbackSettings(@TempDir Path dir) {
        fails(IllegalArgumentException.class, "EarlyStopping: patience must be >= 0, got -1",
                () -> new EarlyStopping(Metric.VAL_LOSS, -1));
        fails(IllegalArgumentException.class, "EarlyStopping: minDelta must be finite and >= 0, got -0.1",
                () -> new EarlyStopping(Metric.VAL_LOSS, 1, -0.1, Mode.MIN));
        fails(NullPointerException.class, "EarlyStopping: monitor is null", () -> new EarlyStopping(null, 1));
        fails(IllegalArgumentException.class, "ReduceLROnPlateau: factor must be in (0, 1), got 1.0",
                () -> new ReduceLROnPlateau(Metric.VAL_LOSS, 1.0, 2, 0));
        fails(IllegalArgumentException.class, "ReduceLROnPlateau: patience must be >= 0, got -2",
                () -> new ReduceLROnPlateau(Metric.VAL_LOSS, 0.5, -2, 0));
        fails(IllegalArgumentException.class, "ReduceLROnPlateau: minLr must be finite and >= 0, got -1.0E-4",
                () -> new ReduceLROnPlateau(Metric.VAL_LOSS, 0.5, 2, -1e-4));
        fails(NullPointerException.class, "BestCheckpoint: file is null",
                () -> new BestCheckpoint(null, Metric.VAL_LOSS, true));
    }

    @Test
    void aCallbackMonitoringWhatTheFitLacksIsRefusedBeforeAnyStep(@TempDir Path dir) {
        Trainer t = trainer(5);
        fails(IllegalArgumentException.class, "EarlyStopping: monitors val_loss, but this fit has no validation data; "
                + "pass validation data to fit, or monitor train_loss",
                () -> t.fit(FIVE, null, FitOptions.of(3).callbacks(new EarlyStopping(Metric.VAL_LOSS, 1))));
        Trainer r = trainer(1);
        fails(IllegalArgumentException.class, "ReduceLROnPlateau: monitors val_accuracy, but this fit validates on "
                + "float targets, which have no accuracy; monitor val_loss", () -> r.fit(REGRESSION, REGRESSION,
                FitOptions.of(1).callbacks(new ReduceLROnPlateau(Metric.VAL_ACCURACY, 0.5, 1, 0))));
        assertEquals(0, r.steps());
        fails(IllegalArgumentException.class, "BestCheckpoint: the directory of " + dir.resolve("no/b.safetensors")
                + " does not exist; create it before the fit", () -> t.fit(FIVE, FIVE, FitOptions.of(1)
                .callbacks(new BestCheckpoint(dir.resolve("no/b.safetensors"), Metric.VAL_LOSS, true))));
        assertEquals(0, t.steps());
    }
}
