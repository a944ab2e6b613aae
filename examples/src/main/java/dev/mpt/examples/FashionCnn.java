package dev.mpt.examples;

import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.BatchNorm2d;
import dev.mpt.nn.Conv2d;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.MaxPool2d;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.optim.Adam;
import dev.mpt.optim.schedule.LearningRateSchedule;
import java.nio.file.Path;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A small convolutional network on Fashion-MNIST: two blocks of 3x3 convolution, BatchNorm, ReLU
 * and 2x2 max pooling (32 and 64 channels), then two dense layers (128 units, 10 classes), trained
 * with Adam, its learning rate annealed to zero over the run (cosine). BatchNorm keeps its scale,
 * shift and statistics in FP32 in every precision. The default five epochs reach about 92% test
 * accuracy in FP32 and in mixed FP16 alike (examples/README.md has the measured seeds).
 */
@Command(name = "fashion-cnn", mixinStandardHelpOptions = true,
        description = "Small CNN (2 x conv+BatchNorm+ReLU+pool, 2 dense layers) on Fashion-MNIST.")
public final class FashionCnn extends TrainingExample {

    @Mixin
    FashionData data;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--channels", paramLabel = "C", defaultValue = "32",
            description = "channels of the first block; the second has twice as many (default: ${DEFAULT-VALUE})")
    int channels;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.001", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--schedule", paramLabel = "S", defaultValue = "cosine",
            description = "learning rate over the run: cosine (annealed from --lr to 0 at the last step) or constant"
                    + " (default: ${DEFAULT-VALUE})")
    Schedule schedule;

    /** The learning-rate schedules offered. */
    enum Schedule {
        cosine, constant
    }

    /** Default epochs: the measured configuration (about 92% test accuracy). */
    static final int DEFAULT_EPOCHS = 5;

    /**
     * The model for {@code [batch, 1, 28, 28]} images, initialised from {@code seed}, with
     * {@code c} channels in the first block (32 by default); public for mpt-bench's peer benchmark.
     */
    public static Sequential model(long seed, int c) {
        var rng = new SplittableRandom(seed);
        return new Sequential(
                new Conv2d(1, c, 3, 1, 1, rng), new BatchNorm2d(c), new ReLU(), new MaxPool2d(2),
                new Conv2d(c, 2 * c, 3, 1, 1, rng), new BatchNorm2d(2 * c), new ReLU(), new MaxPool2d(2),
                new Flatten(),
                new Linear(2 * c * 7 * 7, 128, rng), new ReLU(),
                new Linear(128, 10, rng));
    }

    @Override
    protected void validate() {
        CommonOptions.positive(spec.commandLine(), "--batch", batch);
        CommonOptions.width(spec.commandLine(), "--channels", channels);
        CommonOptions.finitePositive(spec.commandLine(), "--lr", lr);
    }

    @Override
    protected String title() {
        return "fashion-cnn";
    }

    @Override
    protected RunResult train(PrecisionOption p, Path dir) throws Exception {
        var setup = new ClassifierTraining.Setup(model(common.seed(), channels), new Adam(lr),
                data.loadStandardized(common.limit()), batch, common.epochs(DEFAULT_EPOCHS),
                schedule == Schedule.cosine ? steps -> LearningRateSchedule.cosine(lr, steps, 0) : null);
        return ClassifierTraining.run(setup, p, common, dir, log);
    }
}
