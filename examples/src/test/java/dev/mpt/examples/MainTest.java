package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
            "loss-scaling --depth 1", "fashion-mlp --no-such-option", "fashion-cnn --schedule linear"})
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
}
