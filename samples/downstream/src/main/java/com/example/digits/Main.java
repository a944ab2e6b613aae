package com.example.digits;

import dev.mpt.core.random.SplitMix64;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Module; // a single-type import: `dev.mpt.nn.*` alone clashes with java.lang.Module
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.eval.ConfusionMatrix;
import dev.mpt.nn.eval.Predictor;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.train.Evaluation;
import dev.mpt.optim.train.Trainer;

/**
 * A user's first mpt program: trains a small MLP in mixed FP16 on the 8x8 digits bundled with mpt
 * and reports its test accuracy, a per-class report and the model's summary. Exits with status 1
 * when the model did not learn.
 */
public final class Main {

    private Main() {
    }

    /** Trains {@code model} for {@code epochs} on the training part and evaluates it on the other. */
    static Evaluation train(int epochs, Dataset.Split data, Module model) {
        Trainer trainer = Trainer.builder(model)
                .precision(Precision.MIXED_FP16)
                .optimizer(new Adam(3e-3))
                .loss(Losses::crossEntropy)
                .seed(42)
                .build();
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (Batch b : data.train().batches(64, trainer.random())) {
                trainer.step(b);
            }
        }
        return trainer.evaluate(data.validation());
    }

    /** The model: 64 pixels, one hidden layer of 64 units, 10 classes. */
    static Module model(long seed) {
        SplitMix64 rng = SplitMix64.seeded(seed);
        return new Sequential(new Flatten(), new Linear(64, 64, rng), new ReLU(), new Linear(64, 10, rng));
    }

    public static void main(String[] args) {
        Dataset.Split data = Digits.load().split(0.25, 7);
        Module model = model(1);
        Evaluation e = train(10, data, model);
        System.out.println(model.summary(1, 1, 8, 8));
        ConfusionMatrix cm = Predictor.of(model).confusionMatrix(data.validation());
        System.out.println(cm);
        System.out.printf("test accuracy %.4f, mean loss %.4f on %d samples%n", e.accuracy(), e.meanLoss(), e.samples());
        if (e.accuracy() < 0.9) {
            System.err.println("the model did not learn: accuracy " + e.accuracy() + " < 0.9");
            System.exit(1);
        }
    }
}
