package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MainTest {

    @Test
    void helpListsEveryExample() {
        Cli r = Cli.run("--help");
        assertEquals(0, r.exitCode());
        for (String name : new String[] {"fashion-mlp", "fashion-cnn", "char-lstm", "dcgan", "loss-scaling",
                "master-weights"}) {
            assertTrue(r.out().contains(name), () -> name + " missing from:\n" + r.out());
        }
    }

    @Test
    void exampleHelpShowsTheCommonOptions() {
        Cli r = Cli.run("fashion-mlp", "--help");
        assertEquals(0, r.exitCode());
        for (String option : new String[] {"--precision", "--epochs", "--seed", "--threads", "--out", "--compare",
                "--data"}) {
            assertTrue(r.out().contains(option), () -> option + " missing from:\n" + r.out());
        }
        assertTrue(!r.out().contains("--max-steps"), "hidden options stay hidden");
    }

    @Test
    void noExampleIsAUsageError() {
        Cli r = Cli.run();
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("Usage:"), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"no-such-example", "fashion-mlp --precision fp8", "fashion-mlp --epochs 0",
            "fashion-mlp --epochs two", "loss-scaling --threads 0", "master-weights --lr -1",
            "loss-scaling --depth 1", "fashion-mlp --no-such-option", "fashion-cnn --schedule linear",
            "fashion-mlp --lr Infinity", "loss-scaling --lr Infinity", "dcgan --lr NaN", "fashion-mlp --threads 100000",
            "fashion-mlp --hidden 60000", "char-lstm --hidden 60000", "master-weights --width 60000"})
    void wrongArgumentsPrintTheUsageAndExitWith2(String args) {
        Cli r = Cli.run(args.split(" "));
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("Usage:"), r.err());
    }

    @Test
    void missingDataSaysHowToGetIt(@TempDir Path tmp) {
        Cli r = Cli.run("fashion-mlp", "--data", tmp.resolve("absent").toString(), "--out", tmp.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("apt-get install dataset-fashion-mnist"), r.err());
    }

    /** A failure after the options were accepted: exit code 1 and one line naming the example, no stack trace. */
    private static void assertOneLineFailure(Cli r, String example, String mentions) {
        assertEquals(1, r.exitCode(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n") || err.contains("\tat "), "one line, no stack trace:\n" + r.err());
        assertTrue(err.startsWith(example + ": ") && err.contains(mentions), r.err());
    }

    @Test
    void anOutputPathThatIsAFileOrBelowOneIsOneLine(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertOneLineFailure(Cli.run("loss-scaling", "--out", file.toString()), "loss-scaling", file.toString());
        Path below = file.resolve("sub");
        assertOneLineFailure(Cli.run("loss-scaling", "--out", below.toString()), "loss-scaling", file.toString());
    }

    @Test
    void corruptOrEmptyDataIsOneLine(@TempDir Path tmp) throws IOException {
        Path corrupt = Files.createDirectory(tmp.resolve("corrupt"));
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"}) {
            Files.write(corrupt.resolve(f), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
            Files.write(empty.resolve(f), new byte[0]);
        }
        assertOneLineFailure(Cli.run("fashion-mlp", "--data", corrupt.toString(), "--out", tmp.toString()),
                "fashion-mlp", "idx");
        assertOneLineFailure(Cli.run("fashion-mlp", "--data", empty.toString(), "--out", tmp.toString()),
                "fashion-mlp", "idx");
    }

    @Test
    void textThatIsNotUtf8IsOneLine(@TempDir Path tmp) throws IOException {
        Path text = Files.write(tmp.resolve("bad.txt"), new byte[] {'a', 'b', (byte) 0xff, (byte) 0xfe, 'c'});
        assertOneLineFailure(Cli.run("char-lstm", "--text", text.toString(), "--out", tmp.toString()), "char-lstm",
                "UTF-8");
    }

    /** A bad -Dmpt.threads fails where the kernels' thread pool starts: in a fresh JVM. */
    @Test
    void aBadThreadsPropertyIsOneLine(@TempDir Path tmp) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Dmpt.threads=0", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "loss-scaling", "--out", tmp.toString()).redirectErrorStream(false).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        p.getInputStream().readAllBytes();
        assertOneLineFailure(new Cli(p.waitFor(), "", err), "loss-scaling", "mpt.threads");
    }
}
