package dev.mpt.examples;

import dev.mpt.optim.amp.Precision;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every example takes (a picocli mixin). */
public final class CommonOptions {

    /** Numeric precision of a run, as spelled on the command line. */
    public enum PrecisionOption {
        /** Everything in FP32. */
        fp32(Precision.FP32),
        /** FP16 weights, activations and gradients; FP32 masters; dynamic loss scaling. */
        mixed_fp16(Precision.MIXED_FP16),
        /** BF16 weights, activations and gradients; FP32 masters; no loss scaling needed. */
        mixed_bf16(Precision.MIXED_BF16);

        private final Precision precision;

        PrecisionOption(Precision precision) {
            this.precision = precision;
        }

        /** The library's precision for this option. */
        public Precision precision() {
            return precision;
        }

        /** The command-line spelling, e.g. {@code mixed-fp16}. */
        public String cliName() {
            return name().replace('_', '-');
        }

        static PrecisionOption parse(String s) {
            for (PrecisionOption p : values()) {
                if (p.cliName().equalsIgnoreCase(s)) {
                    return p;
                }
            }
            throw new CommandLine.TypeConversionException(
                    "unknown precision '" + s + "': use fp32, mixed-fp16 or mixed-bf16");
        }
    }

    @Option(names = "--precision", paramLabel = "P", converter = PrecisionConverter.class,
            description = "fp32, mixed-fp16 or mixed-bf16 (default: ${DEFAULT-VALUE})", defaultValue = "mixed-fp16")
    PrecisionOption precision = PrecisionOption.mixed_fp16;

    @Option(names = "--epochs", paramLabel = "N", description = "training epochs (default: the example's own)")
    Integer epochs;

    @Option(names = "--seed", paramLabel = "S", description = "random seed (default: ${DEFAULT-VALUE})",
            defaultValue = "1")
    long seed = 1;

    @Option(names = "--threads", paramLabel = "T", description = "kernel threads (default: all cores)")
    Integer threads;

    @Option(names = "--out", paramLabel = "DIR",
            description = "directory for the CSV, PNG and table files (default: ${DEFAULT-VALUE})", defaultValue = "runs")
    Path out = Path.of("runs");

    @Option(names = "--compare",
            description = "run fp32 and the chosen mixed precision (mixed-fp16 when --precision is fp32) with the "
                    + "same seed, back to back, and print one table")
    boolean compare;

    @Option(names = "--limit", paramLabel = "N", hidden = true,
            description = "use at most N training and N test samples (smoke tests)")
    Integer limit;

    @Option(names = "--max-steps", paramLabel = "N", hidden = true,
            description = "stop each epoch after N steps (smoke tests)")
    Integer maxSteps;

    /** The chosen precision. */
    public PrecisionOption precision() {
        return precision;
    }

    /** Epochs, or {@code fallback} when none was given. */
    public int epochs(int fallback) {
        return epochs == null ? fallback : epochs;
    }

    /** The random seed. */
    public long seed() {
        return seed;
    }

    /** Kernel threads, or {@code null} for the default. */
    public Integer threads() {
        return threads;
    }

    /** The output directory. */
    public Path out() {
        return out;
    }

    /** Whether to run FP32 and mixed precision side by side. */
    public boolean compare() {
        return compare;
    }

    /** Sample limit for smoke runs, or {@code Integer.MAX_VALUE}. */
    public int limit() {
        return limit == null ? Integer.MAX_VALUE : limit;
    }

    /** Step limit per epoch for smoke runs, or {@code Integer.MAX_VALUE}. */
    public int maxSteps() {
        return maxSteps == null ? Integer.MAX_VALUE : maxSteps;
    }

    /** The precisions to run: the chosen one, or FP32 and a mixed one with {@code --compare}. */
    public java.util.List<PrecisionOption> runs() {
        if (!compare) {
            return java.util.List.of(precision);
        }
        return java.util.List.of(PrecisionOption.fp32,
                precision == PrecisionOption.fp32 ? PrecisionOption.mixed_fp16 : precision);
    }

    /** Checks the ranges; a violation is a usage error (picocli prints the usage, exit code 2). */
    void validate(CommandLine cmd) {
        positive(cmd, "--epochs", epochs);
        positive(cmd, "--threads", threads);
        if (threads != null && threads > MAX_THREADS) {
            throw new CommandLine.ParameterException(cmd, "--threads must be in [1, " + MAX_THREADS + "], got "
                    + threads);
        }
        positive(cmd, "--limit", limit);
        positive(cmd, "--max-steps", maxSteps);
    }

    /**
     * Largest layer width (hidden units, channels, embedding) an example accepts: 8192 keeps the
     * largest weight tensor of any example (an LSTM's 4H x H, a 3 x 3 convolution's C x C x 9)
     * under 2^31 elements, the limit of Java arrays, and a model in the low GiB of heap.
     */
    static final int MAX_WIDTH = 8192;

    /**
     * Most kernel threads {@code --threads} accepts: far above the core count of any machine the
     * examples run on; beyond it each thread only costs a stack (and ForkJoinPool refuses more
     * than 32767).
     */
    static final int MAX_THREADS = 1024;

    /** A layer width: {@code 1 <= value <= }{@link #MAX_WIDTH}; a violation is a usage error. */
    static void width(CommandLine cmd, String name, int value) {
        if (value < 1 || value > MAX_WIDTH) {
            throw new CommandLine.ParameterException(cmd, name + " must be in [1, " + MAX_WIDTH + "], got " + value);
        }
    }

    /** A learning rate or scale: finite and {@code > 0}; a violation is a usage error. */
    static void finitePositive(CommandLine cmd, String name, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new CommandLine.ParameterException(cmd, name + " must be finite and > 0, got " + value);
        }
    }

    static void positive(CommandLine cmd, String name, Number value) {
        if (value != null && value.doubleValue() < 1) {
            throw new CommandLine.ParameterException(cmd, name + " must be >= 1, got " + value);
        }
    }

    /** Parses {@code fp32|mixed-fp16|mixed-bf16}. */
    public static final class PrecisionConverter implements CommandLine.ITypeConverter<PrecisionOption> {
        @Override
        public PrecisionOption convert(String value) {
            return PrecisionOption.parse(value);
        }
    }
}
