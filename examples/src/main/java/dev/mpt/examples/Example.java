package dev.mpt.examples;

import dev.mpt.core.kernel.Parallel;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
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
 * A bad option value is a usage error (exit code 2); anything that stops a run after that
 * (missing, corrupt or empty data, text that is not UTF-8, an output path that cannot be
 * created, a bad {@code -Dmpt.threads}, running out of memory) ends it with one line on standard
 * error and exit code 1; {@code -Dmpt.stacktrace=true} adds the stack trace.
 */
public abstract class Example implements Callable<Integer> {

    /** System property that adds the stack trace to a failure's one-line message. */
    public static final String STACKTRACE_PROPERTY = "mpt.stacktrace";

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
        try {
            Parallel.threads();                  // reads -Dmpt.threads: a bad value fails here, with its message
            if (common.threads() != null) {
                Parallel.setThreads(common.threads());
            }
            Path dir = common.out().resolve(spec.name());
            Files.createDirectories(dir);
            execute(dir);
            if (writesOutputs()) {
                log.info("{}: outputs in {}", spec.name(), dir.toAbsolutePath());
            }
            return 0;
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (Exception | OutOfMemoryError | ExceptionInInitializerError e) {
            return fail(e);
        }
    }

    /**
     * Prints one line saying why the run stopped (the stack trace only with
     * {@code -Dmpt.stacktrace=true}) and returns exit code 1.
     */
    private int fail(Throwable e) {
        PrintWriter err = spec.commandLine().getErr();
        err.println(spec.name() + ": " + reason(e));
        if (Boolean.getBoolean(STACKTRACE_PROPERTY)) {
            e.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    /** The one-line reason for a failure, with the file for the file-system exceptions that name only it. */
    static String reason(Throwable e) {
        if (e instanceof ExceptionInInitializerError && e.getCause() != null) {
            return reason(e.getCause());
        }
        if (e instanceof OutOfMemoryError) {
            return "out of memory (" + e.getMessage() + "); choose a smaller model or batch, or raise -Xmx";
        }
        String what = switch (e) {
            case NoSuchFileException f -> f.getReason() != null ? f.getFile() + ": " + f.getReason()
                    : "no such file or directory: " + f.getFile();
            case FileAlreadyExistsException f -> "cannot create " + f.getFile() + ": a file is in the way";
            case AccessDeniedException f -> "permission denied: " + f.getFile();
            case FileSystemException f -> f.getMessage();
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
        return what.replace('\n', ' ');
    }

    /**
     * Whether this process writes the example's outputs: false on the ranks other than 0 of a run
     * over several processes, which train but leave the files, the table and the log of results to
     * rank 0.
     */
    protected boolean writesOutputs() {
        return true;
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
