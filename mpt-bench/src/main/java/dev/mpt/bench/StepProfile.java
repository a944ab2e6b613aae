package dev.mpt.bench;

import dev.mpt.core.Tensor;
import dev.mpt.core.kernel.Parallel;
import dev.mpt.nn.BatchNorm2d;
import dev.mpt.nn.Conv2d;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.MaxPool2d;
import dev.mpt.nn.Module;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.train.Trainer;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A plain loop of training steps for profiling (JFR) and for before/after comparisons outside
 * JMH: prints, per step after warm-up, the median wall time, the CPU time of all JVM threads and
 * the bytes allocated on the Java heap by all threads
 * ({@code com.sun.management.ThreadMXBean#getTotalThreadAllocatedBytes}).
 *
 * <p>Models: {@code mlp} (784-1024-1024-10, batch 256, SGD with momentum, as
 * {@link TrainingStepBenchmark}), {@code cnn} (the fashion-cnn example's model with 32
 * channels, batch 128, Adam) and {@code lstm} (the char-lstm step of {@link CharLstmStepBenchmark}:
 * batch 32 x 64, Adam, clipping) and {@code gpt} (the char-gpt step of {@link CharGptStepBenchmark}:
 * 4 blocks, width 128, batch 32 x 128, dropout 0.1, AdamW in two groups). Run:
 * {@code java --add-modules=jdk.incubator.vector -cp mpt-bench/target/benchmarks.jar
 * dev.mpt.bench.StepProfile mlp MIXED_FP16 2 200}
 * (model, precision, threads, measured steps; warm-up is a third of them, at least 20). With
 * {@code -Dstepprofile.jfr=FILE} a JFR recording (the JDK's "profile" settings) covers the
 * measured steps only.
 */
public final class StepProfile {

    private StepProfile() {
    }

    public static void main(String[] args) throws java.io.IOException, java.text.ParseException {
        if (args.length != 4) {
            throw new IllegalArgumentException("StepProfile: expected <mlp|cnn|lstm|gpt> <precision> <threads> <steps>, got "
                    + Arrays.toString(args));
        }
        String model = args[0];
        Precision precision = Precision.valueOf(args[1]);
        Parallel.setThreads(Integer.parseInt(args[2]));
        int steps = Integer.parseInt(args[3]);
        Runnable step = switch (model) {
            case "lstm" -> lstmStep(precision);
            case "gpt" -> gptStep(precision);
            case "mlp", "cnn" -> trainerStep(model, precision);
            default -> throw new IllegalArgumentException("StepProfile: unknown model '" + model
                    + "'; expected mlp, cnn, lstm or gpt");
        };
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int warmup = Math.max(20, steps / 3);
        for (int i = 0; i < warmup; i++) {
            step.run();
        }
        long[] wall = new long[steps];
        String jfr = System.getProperty("stepprofile.jfr");
        jdk.jfr.Recording recording = null;
        if (jfr != null) {
            recording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
            recording.setDestination(java.nio.file.Path.of(jfr));
            recording.start();
        }
        long cpu0 = processCpu();
        long alloc0 = threads.getTotalThreadAllocatedBytes();
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            step.run();
            wall[i] = System.nanoTime() - t0;
        }
        long cpu = processCpu() - cpu0;
        long alloc = threads.getTotalThreadAllocatedBytes() - alloc0;
        if (recording != null) {
            recording.stop();
            recording.close();
        }
        Arrays.sort(wall);
        System.out.printf("%s %s threads=%d median_ms=%.2f min_ms=%.2f p10_ms=%.2f p90_ms=%.2f"
                        + " cpu_ms_per_step=%.2f alloc_kib_per_step=%.1f%n",
                model, precision, Parallel.threads(), wall[steps / 2] / 1e6, wall[0] / 1e6,
                wall[steps / 10] / 1e6, wall[steps * 9 / 10] / 1e6, cpu / 1e6 / steps, alloc / 1024.0 / steps);
    }

    /** The char-lstm step of {@link CharLstmStepBenchmark}. */
    private static Runnable lstmStep(Precision precision) {
        CharLstmStepBenchmark b = new CharLstmStepBenchmark();
        b.precision = precision;
        b.threads = Parallel.threads();
        b.setUp();
        return b::step;
    }

    /** The char-gpt step of {@link CharGptStepBenchmark}. */
    private static Runnable gptStep(Precision precision) {
        CharGptStepBenchmark b = new CharGptStepBenchmark();
        b.precision = precision;
        b.threads = Parallel.threads();
        b.setUp();
        return b::step;
    }

    /** The MLP or CNN step through a {@link Trainer}. */
    private static Runnable trainerStep(String model, Precision precision) {
        SplittableRandom rng = new SplittableRandom(42);
        boolean cnn = model.equals("cnn");
        int batch = cnn ? 128 : 256;
        int[] shape = cnn ? new int[] {batch, 1, 28, 28} : new int[] {batch, 784};
        float[] x = new float[batch * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble();
        }
        Tensor inputs = Tensor.of(x, shape);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = rng.nextInt(10);
        }
        Module net;
        if (cnn) {
            int c = 32;
            net = new Sequential(
                    new Conv2d(1, c, 3, 1, 1, rng), new BatchNorm2d(c), new ReLU(), new MaxPool2d(2),
                    new Conv2d(c, 2 * c, 3, 1, 1, rng), new BatchNorm2d(2 * c), new ReLU(), new MaxPool2d(2),
                    new Flatten(),
                    new Linear(2 * c * 7 * 7, 128, rng), new ReLU(),
                    new Linear(128, 10, rng));
        } else {
            net = new Sequential(new Flatten(), new Linear(784, 1024, 1), new ReLU(),
                    new Linear(1024, 1024, 2), new ReLU(), new Linear(1024, 10, 3));
        }
        Trainer trainer = Trainer.builder(net).precision(precision)
                .optimizer(cnn ? new Adam(0.001) : new Sgd(0.01, 0.9))
                .loss(Losses::crossEntropy).logEvery(0).build();
        return () -> trainer.step(inputs, labels);
    }

    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
