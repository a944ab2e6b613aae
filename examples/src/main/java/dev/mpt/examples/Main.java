package dev.mpt.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The examples' command line: {@code Main <example> [options]}. Each example is a subcommand
 * and takes the {@link CommonOptions}; {@code --help} lists them. Exit codes: 0 when the run
 * finished, 1 when it failed (one line on standard error, see {@link Example}), 2 for a wrong
 * argument (the message and the usage).
 */
@Command(name = "mpt-examples", mixinStandardHelpOptions = true, version = "mpt examples 0.1.0",
        description = "Mixed-precision training examples: each runs in FP32, mixed FP16 or mixed BF16, or "
                + "both side by side (--compare), and writes CSV, PNG and table files into --out.",
        subcommands = {FashionMlp.class, FashionCnn.class, CharLstm.class, CharGpt.class, Dcgan.class, LossScalingAblation.class,
                MasterWeightsAblation.class})
public final class Main implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name an example to run");
    }

    /**
     * System property naming a file to write the exit code into before exiting: Maven's
     * {@code exec:exec} cannot pass a child's exit code on, so {@code examples/run.sh} reads it
     * from there.
     */
    public static final String EXIT_CODE_FILE_PROPERTY = "mpt.exitCodeFile";

    /** Runs the command line and exits with its exit code (also written to {@code -Dmpt.exitCodeFile}, if set). */
    public static void main(String[] args) {
        int code = run(args);
        String file = System.getProperty(EXIT_CODE_FILE_PROPERTY, "");
        if (!file.isBlank()) {
            try {
                Files.writeString(Path.of(file), code + "\n");
            } catch (IOException e) {
                System.err.println("mpt-examples: cannot write the exit code to " + file + ": " + e.getMessage());
            }
        }
        System.exit(code);
    }

    /** Runs the command line, printing to the standard streams; returns the exit code. */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** Runs the command line, printing to {@code out} and {@code err}; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return commandLine().setOut(out).setErr(err).execute(args);
    }

    private static CommandLine commandLine() {
        return new CommandLine(new Main()).setUsageHelpWidth(100).setParameterExceptionHandler(Main::usageError);
    }

    /** Prints the error, picocli's suggestions for a mistyped name, and the usage; returns exit code 2. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        cmd.usage(err);
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }
}
