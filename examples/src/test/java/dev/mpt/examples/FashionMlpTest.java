package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMlpTest {

    @Test
    void compareRunsFp32AndMixedAndWritesTheirFiles(@TempDir Path tmp) throws Exception {
        Path data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), 200, 100, 7);
        Cli r = Cli.run("fashion-mlp", "--data", data.toString(), "--out", tmp.toString(), "--compare",
                "--epochs", "2", "--max-steps", "3", "--batch", "32", "--hidden", "32", "--limit", "200");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("fashion-mlp");
        for (String run : List.of("fp32", "mixed-fp16")) {
            double[] loss = Outputs.column(dir.resolve(run + "-steps.csv"), "loss");
            assertEquals(6, loss.length, "2 epochs of 3 steps");
            Outputs.assertFinite(loss, run + " loss");
            double[] acc = Outputs.column(dir.resolve(run + "-epochs.csv"), "test_accuracy");
            assertEquals(2, acc.length);
            for (double a : acc) {
                assertTrue(a >= 0 && a <= 1, run + " accuracy " + a);
            }
        }
        Outputs.assertPng(dir.resolve("loss.png"));
        String table = Files.readString(dir.resolve("comparison.md"));
        List<List<String>> rows = Outputs.tableRows(table);
        assertEquals(2, rows.size(), table);
        assertEquals("fp32", rows.get(0).get(0));
        assertEquals("mixed-fp16", rows.get(1).get(0));
        assertTrue(rows.get(0).get(3).startsWith("FP32"), table);
        assertTrue(rows.get(1).get(3).startsWith("FP16"), "mixed weights are FP16: " + table);
        assertTrue(rows.get(1).get(5).startsWith("FP16"), "mixed activations are FP16: " + table);
        assertTrue(r.out().contains("| fp32"), r.out());
    }

    @Test
    void singleBf16RunWritesNoComparison(@TempDir Path tmp) throws Exception {
        Path data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), 100, 50, 8);
        Cli r = Cli.run("fashion-mlp", "--data", data.toString(), "--out", tmp.toString(), "--precision",
                "mixed-bf16", "--epochs", "1", "--max-steps", "2", "--batch", "32", "--hidden", "16");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("fashion-mlp");
        Outputs.assertFinite(Outputs.column(dir.resolve("mixed-bf16-steps.csv"), "loss"), "bf16 loss");
        assertTrue(Files.notExists(dir.resolve("comparison.md")));
        assertTrue(r.out().contains("BF16"), r.out());
    }

    @Test
    void workersTrainDataParallelAndReportTheirTraffic(@TempDir Path tmp) throws Exception {
        Path data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), 200, 100, 9);
        Cli r = Cli.run("fashion-mlp", "--data", data.toString(), "--out", tmp.toString(), "--workers", "2",
                "--epochs", "1", "--max-steps", "3", "--batch", "32", "--hidden", "16", "--limit", "200");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("fashion-mlp");
        double[] loss = Outputs.column(dir.resolve("mixed-fp16-workers2-steps.csv"), "loss");
        assertEquals(3, loss.length);
        Outputs.assertFinite(loss, "data-parallel loss");
        double[] acc = Outputs.column(dir.resolve("mixed-fp16-workers2-epochs.csv"), "test_accuracy");
        assertTrue(acc[0] >= 0 && acc[0] <= 1, "accuracy " + acc[0]);
        assertTrue(r.out().contains("mixed-fp16-workers2"), r.out());
    }

    @Test
    void workersMustDivideTheBatch(@TempDir Path tmp) {
        Cli r = Cli.run("fashion-mlp", "--out", tmp.toString(), "--workers", "3", "--batch", "32");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--batch 32 must be a multiple of --workers 3"), r.err());
        r = Cli.run("fashion-mlp", "--out", tmp.toString(), "--workers", "0");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--workers must be >= 1, got 0"), r.err());
    }

    @Test
    void launcherOptionsAreChecked(@TempDir Path tmp) {
        Cli r = Cli.run("fashion-mlp", "--out", tmp.toString(), "--workers", "2", "--launcher", "mpi");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--launcher must be in-process, processes or spark, got 'mpi'"), r.err());
        r = Cli.run("fashion-mlp", "--out", tmp.toString(), "--launcher", "spark");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--launcher spark needs --workers N"), r.err());
        r = Cli.run("fashion-mlp", "--out", tmp.toString(), "--workers", "2", "--rank-logs", tmp.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--rank-logs needs --launcher processes"), r.err());
    }
}
