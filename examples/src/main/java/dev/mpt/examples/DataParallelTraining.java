package dev.mpt.examples;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.Module;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.TrainTest;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Optimizer;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.parallel.Collective;
import dev.mpt.optim.parallel.DataParallel;
import dev.mpt.optim.parallel.DataParallelOptimizer;
import dev.mpt.optim.parallel.MeteredCollective;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;

/**
 * The classifier loop of {@link ClassifierTraining} on {@code N} data-parallel workers
 * ({@link DataParallelOptimizer}): in-process ({@link #run}, {@link DataParallel}) or one rank of
 * a job over TCP ({@link #runRank}, fed by {@link #slices} or by Spark). Every worker trains on its
 * slice of each shuffled global batch ({@code batch / N} samples); evaluation is split over the
 * workers too. It logs the training throughput and the bytes each worker would send per
 * step over a wire ({@link MeteredCollective}), and writes the same CSV files as the
 * single-process loop, named {@code <precision>-workers<N>-*.csv}.
 */
final class DataParallelTraining {

    /**
     * How long a collective call waits for the other workers, under every launcher (an epoch's
     * evaluation runs between two calls).
     */
    static final Duration COLLECTIVE_TIMEOUT = Duration.ofMinutes(10);

    private DataParallelTraining() {
    }

    /**
     * What to train.
     *
     * @param model     builds one replica (every worker calls it; rank 0's weights are used)
     * @param optimizer the optimizer
     * @param data      training and test splits
     * @param batchSize samples per global step, a multiple of {@code workers}
     * @param epochs    passes over the training split
     * @param workers   the number of workers
     * @param saveMasters whether rank 0 writes the final FP32 masters to {@code <label>-masters.bin}
     *                  ({@link #writeMasters})
     */
    record Setup(Supplier<Module> model, Optimizer optimizer, TrainTest data, int batchSize, int epochs,
                 int workers, boolean saveMasters) {
    }

    /** What rank 0 measured. */
    private record Measured(RunResult result, double samplesPerSecond, double cpuSecondsPerStep, double bytesPerStep,
                            long shardBytes) {
    }

    static RunResult run(Setup s, PrecisionOption p, CommonOptions common, Path dir, Logger log) {
        int n = s.workers();
        int perEpoch = stepsPerEpoch(s, common);
        String label = label(p, n);
        List<Measured> measured = DataParallel.workers(n).collectiveTimeout(COLLECTIVE_TIMEOUT)
                .run(s.model(), w -> train(s, p, common, w.model(), w.collective(),
                        slices(s, common, w.rank(), perEpoch), perEpoch, dir, log));
        return report(s, label, measured.get(0), log);
    }

    /**
     * Trains the rank of {@code collective} in this process (one of the processes of
     * {@code --launcher processes}, or a Spark task) on {@code batches}, its micro-batches in step
     * order. Only rank 0 writes files and logs; every rank returns its own result.
     */
    static RunResult runRank(Setup s, PrecisionOption p, CommonOptions common, Collective collective,
                             RankBatches batches, Path dir, Logger log) {
        if (collective.worldSize() != s.workers()) {
            throw new IllegalStateException("data-parallel training: --workers " + s.workers()
                    + " but the collective has " + collective.worldSize() + " ranks");
        }
        Measured m = train(s, p, common, s.model().get(), collective, batches, stepsPerEpoch(s, common), dir, log);
        return collective.rank() == 0 ? report(s, label(p, s.workers()), m, log) : m.result();
    }

    /** The run's name: {@code <precision>-workers<N>}. */
    static String label(PrecisionOption p, int workers) {
        return p.cliName() + "-workers" + workers;
    }

    /** Whole global batches per epoch (so that every rank's micro-batch has {@code batch / N} samples). */
    static int stepsPerEpoch(Setup s, CommonOptions common) {
        int perEpoch = Math.min(common.maxSteps(), s.data().train().size() / s.batchSize());
        if (perEpoch == 0) {
            throw new IllegalArgumentException("data-parallel training: the training split has "
                    + s.data().train().size() + " samples, fewer than one global batch of " + s.batchSize());
        }
        return perEpoch;
    }

    /** The shuffle of epoch {@code epoch} (from 1), the same on every rank and launcher. */
    static RandomGenerator shuffle(CommonOptions common, int epoch) {
        return SplitMix64.seeded(common.seed() * 1000 + epoch);
    }

    /** This rank's micro-batches of one epoch, in step order; epochs are asked for in order from 1. */
    @FunctionalInterface
    interface RankBatches {
        Iterator<Batch> epoch(int epoch);
    }

    /**
     * Rank {@code rank}'s micro-batches drawn as the in-process workers draw them: every rank
     * shuffles the whole split the same way and takes samples {@code [rank * micro, (rank + 1) * micro)}
     * of each global batch.
     */
    static RankBatches slices(Setup s, CommonOptions common, int rank, int perEpoch) {
        int micro = s.batchSize() / s.workers();
        return epoch -> StreamSupport.stream(s.data().train().batches(s.batchSize(), shuffle(common, epoch))
                        .spliterator(), false)
                .takeWhile(b -> b.size() == s.batchSize())
                .limit(perEpoch)
                .map(b -> slice(b, rank * micro, micro))
                .iterator();
    }

    private static RunResult report(Setup s, String label, Measured m, Logger log) {
        log.info(String.format(Locale.ROOT, "%s: %.0f samples/s, %.1f ms of process CPU time per step, %.0f bytes "
                        + "sent per worker per step (%.2f per parameter), FP32 shard state %s per worker", label,
                m.samplesPerSecond(), 1e3 * m.cpuSecondsPerStep(), m.bytesPerStep(),
                m.bytesPerStep() / s.model().get().parameterCount(), Memory.format(m.shardBytes())));
        return m.result();
    }

    private static Measured train(Setup s, PrecisionOption p, CommonOptions common, Module model,
                                  Collective collective, RankBatches batches, int perEpoch, Path dir, Logger log) {
        int n = s.workers();
        int rank = collective.rank();
        var c = new MeteredCollective(collective);
        var opt = DataParallelOptimizer.builder(model, c, s.optimizer()).precision(p.precision()).build();
        String label = label(p, n);
        long total = (long) perEpoch * s.epochs();
        int micro = s.batchSize() / n;
        boolean lead = rank == 0;
        if (lead) {
            log.info("{}: {} parameters, {}, global batch {} = {} workers x {}, {} epochs, {} training samples",
                    label, model.parameterCount(), s.optimizer(), s.batchSize(), n, micro, s.epochs(),
                    s.data().train().size());
        }
        var progress = lead ? new Progress(log, label, total, ClassifierTraining.PROGRESS_INTERVAL) : null;
        double[] steps = new double[(int) total];
        double[] losses = new double[(int) total];
        int k = 0;
        long skipped = 0;
        long stepBytes = 0;
        double trainSeconds = 0;
        double cpuNanos = 0;
        double accuracy = Double.NaN;
        try (var stepCsv = lead ? new MetricsCsv(dir.resolve(label + "-steps.csv"),
                List.of("step", "epoch", "loss", "scale", "skipped")) : null;
             var epochCsv = lead ? new MetricsCsv(dir.resolve(label + "-epochs.csv"),
                     List.of("epoch", "train_loss", "test_loss", "test_accuracy", "train_seconds")) : null) {
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                long t0 = System.nanoTime();
                long cpu0 = processCpuNanos();
                double lossSum = 0;
                int done = 0;
                for (Iterator<Batch> it = batches.epoch(epoch); it.hasNext(); ) {
                    Batch mine = it.next();
                    if (mine.size() != micro) {
                        throw new IllegalStateException("data-parallel training: rank " + rank + " got a batch of "
                                + mine.size() + " samples in epoch " + epoch + ", expected " + micro);
                    }
                    opt.zeroGrad();
                    Tensor in = Tensor.of(mine.features(), mine.inputShape()).to(p.precision().modelDtype());
                    Tensor loss = Losses.crossEntropy(model.forward(in), mine.labels());
                    opt.scale(loss).backward();
                    long before = c.bytesSent();
                    StepOutcome o = opt.step();
                    stepBytes += c.bytesSent() - before;
                    double global = mean(c.allGather(new double[] {loss.item()}));
                    done++;
                    skipped += o.skipped() ? 1 : 0;
                    lossSum += global;
                    if (lead) {
                        steps[k] = o.step();
                        losses[k] = global;
                        stepCsv.row(o.step(), epoch, global, o.scale(), o.skipped() ? 1 : 0);
                        progress.step(k + 1, s.batchSize(), global, o.scale(), skipped);
                    }
                    k++;
                }
        double seconds = (System.nanoTime() - t0) / 1e9;
                trainSeconds += seconds;
                cpuNanos += processCpuNanos() - cpu0;
                double[] eval = evaluate(model, p, s.data().test(), rank, n, c);
                accuracy = eval[0];
                if (lead) {
                    epochCsv.row(epoch, lossSum / Math.max(1, done), eval[1], eval[0], seconds);
                    log.info(String.format(Locale.ROOT,
                            "%s epoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.1f s", label,
                            epoch, s.epochs(), lossSum / Math.max(1, done), eval[1], eval[0], seconds));
                }
            }
        }
        if (s.saveMasters()) {
            Map<String, float[]> masters = opt.allMasters(); // a collective call: every rank makes it
            if (lead) {
                writeMasters(dir.resolve(label + "-masters.bin"), masters);
            }
        }
        Batch probe = s.data().test().batches(micro).iterator().next();
        Tensor input = probe.inputs().to(p.precision().modelDtype());
        var result = new RunResult(label, "test accuracy", accuracy, trainSeconds / s.epochs(), Memory.weights(model),
                opt.masterBytes(), Memory.activations(model, input), k, skipped, opt.lossScale(),
                new double[][] {Arrays.copyOf(steps, k), Arrays.copyOf(losses, k)});
        return new Measured(result, (double) k * s.batchSize() / trainSeconds, cpuNanos / 1e9 / Math.max(1, k),
                (double) stepBytes / Math.max(1, k), opt.shardBytes());
    }

    /**
     * Accuracy and mean loss over the test split: worker {@code r} of {@code n} evaluates samples
     * {@code [r * size / n, (r + 1) * size / n)}; the counts and loss sums are gathered.
     */
    private static double[] evaluate(Module model, PrecisionOption p, Dataset test, int rank, int n,
                                     MeteredCollective c) {
        int from = (int) ((long) rank * test.size() / n);
        int to = (int) ((long) (rank + 1) * test.size() / n);
        int[] idx = new int[to - from];
        Arrays.setAll(idx, i -> from + i);
        double correct = 0;
        double lossSum = 0;
        model.eval();
        try (NoGrad scope = NoGrad.enter()) {
            for (Batch b : test.subset(idx).batches(256)) {
                Tensor out = model.forward(Tensor.of(b.features(), b.inputShape()).to(p.precision().modelDtype()));
                lossSum += (double) Losses.crossEntropy(out, b.labels()).item() * b.size();
                float[] v = out.toFloatArray();
                int classes = v.length / b.size();
                for (int i = 0; i < b.size(); i++) {
                    int best = 0;
                    for (int k = 1; k < classes; k++) {
                        best = v[i * classes + k] > v[i * classes + best] ? k : best;
                    }
                    correct += best == b.labels()[i] ? 1 : 0;
                }
            }
        } finally {
            model.train();
        }
        double[] all = c.allGather(new double[] {correct, lossSum});
        double sumCorrect = 0;
        double sumLoss = 0;
        for (int r = 0; r < n; r++) {
            sumCorrect += all[2 * r];
            sumLoss += all[2 * r + 1];
        }
        return new double[] {sumCorrect / test.size(), sumLoss / test.size()};
    }

    /**
     * Writes the FP32 masters, in parameter order, each as its name ({@link DataOutputStream#writeUTF}),
     * its length and its values' bits (big-endian): two runs that trained alike write the same bytes.
     */
    static void writeMasters(Path file, Map<String, float[]> masters) {
        try (var out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            for (Map.Entry<String, float[]> e : masters.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                for (float v : e.getValue()) {
                    out.writeInt(Float.floatToRawIntBits(v));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Samples {@code [from, from + size)} of {@code b}. */
    private static Batch slice(Batch b, int from, int size) {
        int f = b.featureSize();
        return new Batch(Arrays.copyOfRange(b.features(), from * f, (from + size) * f),
                Arrays.copyOfRange(b.labels(), from, from + size), size, b.featureShape());
    }

    /** CPU time of the whole process (every worker and kernel thread, JIT and GC too), in nanoseconds. */
    private static long processCpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }
}
