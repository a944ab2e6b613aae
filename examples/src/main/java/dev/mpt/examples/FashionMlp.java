package dev.mpt.examples;

import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.optim.Sgd;
import java.nio.file.Path;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The main example: a multi-layer perceptron 784-1024-1024-10 ({@code --hidden} changes the width) on Fashion-MNIST, trained with SGD
 * and momentum. {@code --compare} trains it in FP32 and in mixed precision from the same initial
 * weights and shuffling, and tabulates accuracy, time and memory side by side. {@code --workers N}
 * trains data-parallel on N in-process workers instead ({@link DataParallelTraining}) and logs the
 * throughput and the bytes each worker sends per step.
 */
@Command(name = "fashion-mlp", mixinStandardHelpOptions = true,
        description = "MLP 784-1024-1024-10 on Fashion-MNIST (the main example).")
public final class FashionMlp extends TrainingExample {

    @Mixin
    FashionData data;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "256", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--hidden", paramLabel = "H", defaultValue = "1024",
            description = "width of the two hidden layers (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.05", description = "learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--workers", paramLabel = "N",
            description = "train data-parallel on N in-process workers, each on batch/N samples of every batch "
                    + "(default: the single-process trainer)")
    Integer workers;

    /** Default epochs: a few minutes on two cores. */
    static final int DEFAULT_EPOCHS = 3;

    /** The model, initialised from {@code seed}: the same weights for every precision. */
    static Sequential model(long seed, int hidden) {
        var rng = new SplittableRandom(seed);
        return new Sequential(new Flatten(),
                new Linear(784, hidden, rng), new ReLU(),
                new Linear(hidden, hidden, rng), new ReLU(),
                new Linear(hidden, 10, rng));
    }

    @Override
    protected void validate() {
        CommonOptions.positive(spec.commandLine(), "--batch", batch);
        CommonOptions.width(spec.commandLine(), "--hidden", hidden);
        CommonOptions.finitePositive(spec.commandLine(), "--lr", lr);
        if (!(momentum >= 0 && momentum < 1)) {
            throw usageError("--momentum must be in [0, 1), got " + momentum);
        }
        CommonOptions.positive(spec.commandLine(), "--workers", workers);
        if (workers != null && batch % workers != 0) {
            throw usageError("--batch " + batch + " must be a multiple of --workers " + workers);
        }
    }

    @Override
    protected String title() {
        return "fashion-mlp";
    }

    @Override
    protected RunResult train(PrecisionOption p, Path dir) throws Exception {
        if (workers != null) {
            var setup = new DataParallelTraining.Setup(() -> model(common.seed(), hidden), new Sgd(lr, momentum),
                    data.loadStandardized(common.limit()), batch, common.epochs(DEFAULT_EPOCHS), workers);
            return DataParallelTraining.run(setup, p, common, dir, log);
        }
        var setup = new ClassifierTraining.Setup(model(common.seed(), hidden), new Sgd(lr, momentum),
                data.loadStandardized(common.limit()), batch, common.epochs(DEFAULT_EPOCHS), null);
        return ClassifierTraining.run(setup, p, common, dir, log);
    }
}
