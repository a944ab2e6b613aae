package dev.mpt.examples;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The examples' command line: {@code Main <example> [options]}. Each example is a subcommand
 * and takes the {@link CommonOptions}; {@code --help} lists them. A wrong argument prints the
 * usage and exits with code 2.
 */
@Command(name = "mpt-examples", mixinStandardHelpOptions = true, version = "mpt examples 0.1.0",
        description = "Mixed-precision training examples: each runs in FP32, mixed FP16 or mixed BF16, or "
                + "both side by side (--compare), and writes CSV, PNG and table files into --out.",
        subcommands = {FashionMlp.class, FashionCnn.class, CharLstm.class, Dcgan.class, LossScalingAblation.class,
                MasterWeightsAblation.class})
public final class Main implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name an example to run");
    }

    /** Runs the command line and exits with its exit code. */
    public static void main(String[] args) {
        System.exit(run(args));
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
