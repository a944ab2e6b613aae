package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fashion-mlp --workers 2} over child JVMs and over Spark {@code local[2]} trains exactly as
 * the in-process workers do: the same FP32 masters, bit for bit, and the same loss at every step.
 * (The three launchers run the same deterministic step on the same micro-batches; only the
 * transport differs, so nothing but identity is expected.)
 */
class DataParallelLaunchersTest {

    @TempDir
    static Path tmp;
    private static Path data;
    private static Path inProcess;

    @BeforeAll
    static void trainInProcess() throws Exception {
        data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), 200, 60, 11);
        inProcess = train("in-process", List.of());
    }

    @Test
    void childProcessesTrainAsTheInProcessWorkers() throws Exception {
        Path logs = tmp.resolve("rank-logs");
        Path dir = train("processes", List.of("--rank-logs", logs.toString()));
        assertSameTraining(dir);
        // only rank 0 prints the table (and writes the files both ranks would otherwise write)
        assertTrue(Files.readString(logs.resolve("rank-0.log")).contains("| mixed-fp16-workers2"), "rank 0's table");
        String rank1 = Files.readString(logs.resolve("rank-1.log"));
        assertTrue(!rank1.contains("| mixed-fp16-workers2"), "rank 1 prints no table: " + rank1);
        assertTrue(Files.notExists(dir.resolve("comparison.md")), "no table without --compare");
    }

    @Test
    void sparkTasksTrainAsTheInProcessWorkers() throws Exception {
        assertSameTraining(train("spark", List.of()));
    }

    private static void assertSameTraining(Path dir) throws Exception {
        String run = "mixed-fp16-workers2";
        assertArrayEquals(Files.readAllBytes(inProcess.resolve(run + "-masters.bin")),
                Files.readAllBytes(dir.resolve(run + "-masters.bin")), "final FP32 masters");
        double[] want = Outputs.column(inProcess.resolve(run + "-steps.csv"), "loss");
        assertEquals(3, want.length);
        assertArrayEquals(want, Outputs.column(dir.resolve(run + "-steps.csv"), "loss"), 0.0, "loss per step");
        Outputs.assertPng(dir.resolve("loss.png"));
    }

    private static Path train(String launcher, List<String> more) {
        Path out = tmp.resolve(launcher);
        List<String> args = new ArrayList<>(List.of("fashion-mlp", "--data", data.toString(), "--out", out.toString(),
                "--workers", "2", "--launcher", launcher, "--save-masters", "--epochs", "1", "--max-steps", "3",
                "--batch", "32", "--hidden", "16", "--limit", "200"));
        args.addAll(more);
        Cli r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), launcher + ": " + r.err());
        return out.resolve("fashion-mlp");
    }
}
