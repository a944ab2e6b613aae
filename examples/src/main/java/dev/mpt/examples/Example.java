package dev.mpt.examples;

import dev.mpt.core.kernel.Parallel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The base of every example command: validates the common options, sets the kernel threads,
 * creates the example's output directory {@code <out>/<name>} and runs {@link #execute(Path)}.
 * Missing input files end the run with a message and exit code 1.
 */
public abstract class Example implements Callable<Integer> {

    /** The options every example takes. */
    @Mixin
    protected CommonOptions common;

    /** The command, for usage errors and its name. */
    @Spec
    protected CommandSpec spec;

    /** The example's logger. */
    protected final Logger log = LoggerFactory.getLogger(getClass());

    @Override
    public final Integer call() throws Exception {
        common.validate(spec.commandLine());
        validate();
        if (common.threads() != null) {
            Parallel.setThreads(common.threads());
        }
        Path dir = common.out().resolve(spec.name());
        Files.createDirectories(dir);
        try {
            execute(dir);
        } catch (NoSuchFileException e) {
            spec.commandLine().getErr().println(spec.name() + ": " + e.getMessage());
            return 1;
        }
        log.info("{}: outputs in {}", spec.name(), dir.toAbsolutePath());
        return 0;
    }

    /** Checks the example's own options; throws {@link #usageError(String)} on a bad value. */
    protected void validate() {
    }

    /** Runs the example, writing its files into {@code dir}. */
    protected abstract void execute(Path dir) throws Exception;

    /** A usage error: picocli prints {@code message} and the usage, and the exit code is 2. */
    protected final CommandLine.ParameterException usageError(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** Prints a line on the command's standard output. */
    protected final void print(String text) {
        spec.commandLine().getOut().println(text);
        spec.commandLine().getOut().flush();
    }
}
