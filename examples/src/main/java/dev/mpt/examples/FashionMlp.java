package dev.mpt.examples;

import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.parallel.ProcessLauncher;
import dev.mpt.optim.parallel.TcpCollective;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The main example: a multi-layer perceptron 784-1024-1024-10 ({@code --hidden} changes the width) on Fashion-MNIST, trained with SGD
 * and momentum. {@code --compare} trains it in FP32 and in mixed precision from the same initial
 * weights and shuffling, and tabulates accuracy, time and memory side by side. {@code --workers N}
 * trains data-parallel on N workers instead ({@link DataParallelTraining}) and logs the throughput
 * and the bytes each worker sends per step; {@code --launcher} runs them as threads of this JVM
 * (the default), as N child JVMs over TCP ({@link ProcessLauncher}) or as Spark barrier tasks
 * ({@link SparkTraining}), with bit-identical results.
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
            description = "train data-parallel on N workers, each on batch/N samples of every batch "
                    + "(default: the single-process trainer)")
    Integer workers;

    @Option(names = "--launcher", paramLabel = "L",
            description = "how --workers runs: in-process (threads of this JVM), processes (N child JVMs over TCP) or "
                    + "spark (N barrier tasks of Spark local[N]) (default: ${DEFAULT-VALUE})",
            defaultValue = IN_PROCESS)
    String launcher = IN_PROCESS;

    @Option(names = "--rank-logs", paramLabel = "DIR",
            description = "with --launcher processes: write rank R's output to DIR/rank-R.log (default: this console)")
    Path rankLogs;

    @Option(names = "--save-masters", hidden = true,
            description = "with --workers: rank 0 writes the final FP32 masters to <run>-masters.bin (tests)")
    boolean saveMasters;

    static final String IN_PROCESS = "in-process";
    static final String PROCESSES = "processes";
    static final String SPARK = "spark";
    /**
     * The launcher of each child JVM of {@code processes}, or of a rank started by hand: the rank,
     * world size, rank 0's address and the job secret come from the environment
     * ({@link TcpCollective#fromEnvironment()}).
     */
    static final String ENV = "env";

    /** This rank's collective under {@code --launcher env}, open while {@link #execute} runs. */
    private TcpCollective collective;

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
        if (!List.of(IN_PROCESS, PROCESSES, SPARK, ENV).contains(launcher)) {
            throw usageError("--launcher must be in-process, processes or spark, got '" + launcher + "'");
        }
        if (rankLogs != null && !launcher.equals(PROCESSES)) {
            throw usageError("--rank-logs needs --launcher processes");
        }
        if (workers == null && (!launcher.equals(IN_PROCESS) || saveMasters)) {
            throw usageError((saveMasters ? "--save-masters" : "--launcher " + launcher) + " needs --workers N");
        }
    }

    @Override
    protected void execute(Path dir) throws Exception {
        switch (launcher) {
            case PROCESSES -> launchProcesses();
            case ENV -> {
                try (TcpCollective c = TcpCollective.fromEnvironment()) {
                    collective = c;
                    super.execute(dir);
                } finally {
                    collective = null;
                }
            }
            default -> super.execute(dir);
        }
    }

    @Override
    protected boolean writesOutputs() {
        return collective == null || collective.rank() == 0;
    }

    /** Fails with the fix when Spark's jars are not on the class path (a run without the spark profile). */
    private static void requireSpark() {
        try {
            Class.forName("org.apache.spark.SparkConf", false, FashionMlp.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("--launcher spark needs Spark on the class path: run it with "
                    + "examples/run.sh, or add -Pspark to the Maven command");
        }
    }

    /**
     * Starts {@code --workers} child JVMs ({@link ProcessLauncher}) that run this command line with
     * {@code --launcher env} (and without {@code --rank-logs}); rank 0 writes the outputs, and this
     * process waits for them all.
     */
    private void launchProcesses() throws Exception {
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        List<String> rank = new ArrayList<>();
        for (int i = args.indexOf(spec.name()) + 1; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--launcher") || a.equals("--rank-logs")) {
                i++; // and its value
            } else if (!a.startsWith("--launcher=") && !a.startsWith("--rank-logs=")) {
                rank.add(a);
            }
        }
        rank.addAll(0, List.of(spec.name(), "--launcher", ENV));
        var launch = ProcessLauncher.builder().workers(workers).mainClass(Main.class.getName()).args(rank)
                .timeout(DataParallelTraining.COLLECTIVE_TIMEOUT);
        if (rankLogs != null) {
            Files.createDirectories(rankLogs);
            launch.logDirectory(rankLogs);
        }
        int[] codes = launch.build().run();
        for (int r = 0; r < codes.length; r++) {
            if (codes[r] != 0) {
                throw new IllegalStateException("rank " + r + " of " + codes.length + " exited with code " + codes[r]
                        + " (see its output"
                        + (rankLogs != null ? " in " + rankLogs.resolve("rank-" + r + ".log") : "") + ")");
            }
        }
    }

    @Override
    protected String title() {
        return "fashion-mlp";
    }

    @Override
    protected RunResult train(PrecisionOption p, Path dir) throws Exception {
        if (workers != null && launcher.equals(SPARK)) {
            requireSpark();
            return SparkTraining.run(new SparkTraining.Job(data.dir.toString(), common.limit(), common.seed(),
                    common.maxSteps(), hidden, lr, momentum, batch, common.epochs(DEFAULT_EPOCHS), workers,
                    saveMasters, p, dir.toString()), log);
        }
        if (workers != null) {
            var setup = new DataParallelTraining.Setup(() -> model(common.seed(), hidden), new Sgd(lr, momentum),
                    data.loadStandardized(common.limit()), batch, common.epochs(DEFAULT_EPOCHS), workers,
                    saveMasters);
            if (collective != null) {
                var mine = DataParallelTraining.slices(setup, common, collective.rank(),
                        DataParallelTraining.stepsPerEpoch(setup, common));
                return DataParallelTraining.runRank(setup, p, common, collective, mine, dir, log);
            }
            return DataParallelTraining.run(setup, p, common, dir, log);
        }
        var setup = new ClassifierTraining.Setup(model(common.seed(), hidden), new Sgd(lr, momentum),
                data.loadStandardized(common.limit()), batch, common.epochs(DEFAULT_EPOCHS), null);
        return ClassifierTraining.run(setup, p, common, dir, log);
    }
}
