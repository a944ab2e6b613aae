package dev.mpt.examples;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@link Main} in-process and captures its exit code and output. */
record Cli(int exitCode, String out, String err) {

    static Cli run(String... args) {
        var out = new StringWriter();
        var err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Cli(code, out.toString(), err.toString());
    }
}
