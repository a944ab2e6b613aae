package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.optim.amp.GradientStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AblationsTest {

    @Test
    void lossScalingShowsGradientsBelowFp16AndTheScalersRecoverThem(@TempDir Path tmp) throws Exception {
        Cli r = Cli.run("loss-scaling", "--out", tmp.toString(), "--epochs", "1", "--max-steps", "4",
                "--limit", "300", "--stats-every", "2");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("loss-scaling");
        List<List<String>> rows = Outputs.tableRows(Files.readString(dir.resolve("comparison.md")));
        assertEquals(List.of("fp32", "fp16, no scaling", "fp16, static 2^12", "fp16, dynamic"),
                rows.stream().map(row -> row.get(0)).toList());
        // The model is built so that most true activation gradients lie below 2^-24 ...
        assertTrue(Outputs.percent(rows.get(0).get(3)) > 0.5, rows.toString());
        // ... which FP16 without scaling flushes to zero, and a scaled loss keeps.
        assertTrue(Outputs.percent(rows.get(1).get(3)) > 0.5, rows.toString());
        assertTrue(Outputs.percent(rows.get(2).get(3)) < 0.1, rows.toString());
        assertTrue(Outputs.percent(rows.get(3).get(3)) < 0.1, rows.toString());
        // The histogram CSV agrees: most nonzero FP32 activation gradients sit below 2^-24.
        double[] exps = Outputs.column(dir.resolve("activation-gradients.csv"), "log2_magnitude");
        double[] counts = Outputs.column(dir.resolve("activation-gradients.csv"), "count");
        double below = 0;
        double all = 0;
        for (int i = 0; i < exps.length; i++) {
            all += counts[i];
            below += exps[i] < -24 ? counts[i] : 0;
        }
        assertEquals(GradientStats.MAX_EXPONENT - GradientStats.MIN_EXPONENT + 1, exps.length);
        assertTrue(below / all > 0.5, "below 2^-24: " + below + " of " + all);
        Outputs.assertPng(dir.resolve("activation-gradients.png"));
        Outputs.assertPng(dir.resolve("loss.png"));
        for (String f : List.of("fp32", "fp16-no-scaling", "fp16-static-2-12", "fp16-dynamic")) {
            Outputs.assertFinite(Outputs.column(dir.resolve(f + "-steps.csv"), "loss"), f);
        }
    }

    @Test
    void masterWeightsShowUpdatesLostWithoutMasters(@TempDir Path tmp) throws Exception {
        Cli r = Cli.run("master-weights", "--out", tmp.toString(), "--epochs", "1", "--max-steps", "4",
                "--limit", "300", "--stats-every", "1", "--width", "64");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("master-weights");
        List<List<String>> rows = Outputs.tableRows(Files.readString(dir.resolve("comparison.md")));
        assertEquals(List.of("fp32", "fp16, fp32 masters", "fp16, no masters"),
                rows.stream().map(row -> row.get(0)).toList());
        double fp32Lost = Outputs.percent(rows.get(0).get(3));
        double mastersLost = Outputs.percent(rows.get(1).get(3));
        double noMastersLost = Outputs.percent(rows.get(2).get(3));
        assertTrue(noMastersLost > 0.2, rows.toString());
        assertTrue(mastersLost < 0.05 && fp32Lost < 0.05, rows.toString());
        for (List<String> row : rows) {
            double acc = Double.parseDouble(row.get(1));
            assertTrue(acc >= 0 && acc <= 1, row.toString());
            assertTrue(Double.isFinite(Double.parseDouble(row.get(2))), row.toString());
        }
        Outputs.assertPng(dir.resolve("updates.png"));
        Outputs.assertPng(dir.resolve("loss.png"));
    }
}
