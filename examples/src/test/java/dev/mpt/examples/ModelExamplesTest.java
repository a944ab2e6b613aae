package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke tests of fashion-cnn, char-lstm and dcgan: a few steps on a few hundred samples. */
class ModelExamplesTest {

    @Test
    void fashionCnnTrainsAndReportsFp32AndBf16(@TempDir Path tmp) throws Exception {
        Path data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), 64, 32, 3);
        Cli r = Cli.run("fashion-cnn", "--data", data.toString(), "--out", tmp.toString(), "--compare",
                "--precision", "mixed-bf16", "--epochs", "1", "--max-steps", "2", "--batch", "16", "--channels", "4");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("fashion-cnn");
        for (String run : List.of("fp32", "mixed-bf16")) {
            Outputs.assertFinite(Outputs.column(dir.resolve(run + "-steps.csv"), "loss"), run);
            double acc = Outputs.column(dir.resolve(run + "-epochs.csv"), "test_accuracy")[0];
            assertTrue(acc >= 0 && acc <= 1, run + " accuracy " + acc);
        }
        List<List<String>> rows = Outputs.tableRows(Files.readString(dir.resolve("comparison.md")));
        assertEquals(List.of("fp32", "mixed-bf16"), rows.stream().map(row -> row.get(0)).toList());
        // BatchNorm's scale and shift stay FP32 next to the BF16 convolution and dense weights.
        assertTrue(rows.get(1).get(3).contains("FP32") && rows.get(1).get(3).contains("BF16"), rows.toString());
        Outputs.assertPng(dir.resolve("loss.png"));
    }

    @Test
    void charLstmReportsBitsPerCharacterAndSamplesText(@TempDir Path tmp) throws Exception {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "Call me Ishmael. The quick brown fox jumps over the lazy dog. ".repeat(150));
        Cli r = Cli.run("char-lstm", "--text", text.toString(), "--out", tmp.toString(), "--epochs", "2",
                "--max-steps", "2", "--batch", "4", "--seq-len", "16", "--hidden", "16", "--embedding", "8",
                "--val-chars", "200", "--sample-length", "20");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("char-lstm");
        double[] loss = Outputs.column(dir.resolve("mixed-fp16-steps.csv"), "loss");
        assertEquals(4, loss.length);
        Outputs.assertFinite(loss, "loss");
        double[] bpc = Outputs.column(dir.resolve("mixed-fp16-epochs.csv"), "val_bpc");
        Outputs.assertFinite(bpc, "val bpc");
        // 30 distinct characters: an untrained model is near log2(30) = 4.9 bits, never above ~2x that
        for (double b : bpc) {
            assertTrue(b > 0 && b < 10, "bpc " + b);
        }
        String sample = Files.readString(dir.resolve("mixed-fp16-sample.txt")).strip();
        assertTrue(sample.startsWith("Call me "), sample);
        assertEquals("Call me ".length() + 20, sample.codePointCount(0, sample.length()), sample);
        Outputs.assertPng(dir.resolve("loss.png"));
        assertTrue(r.out().contains("val bpc"), r.out());
    }

    @Test
    void charGptLearnsOnASmallTextAndSamples(@TempDir Path tmp) throws Exception {
        Path text = tmp.resolve("text.txt");
        Files.writeString(text, "Call me Ishmael. The quick brown fox jumps over the lazy dog. ".repeat(150));
        Cli r = Cli.run("char-gpt", "--text", text.toString(), "--out", tmp.toString(), "--epochs", "1",
                "--max-steps", "40", "--batch", "8", "--context", "16", "--width", "16", "--heads", "2", "--layers",
                "1", "--dropout", "0", "--lr", "0.01", "--val-chars", "200", "--sample-length", "20");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = tmp.resolve("char-gpt");
        double[] loss = Outputs.column(dir.resolve("mixed-fp16-steps.csv"), "loss");
        assertEquals(40, loss.length);
        Outputs.assertFinite(loss, "loss");
        // 30 distinct characters: an untrained model starts near ln(30) = 3.4 nats; the text repeats a
        // 63-character sentence, so 40 steps bring the loss well below that
        double first = loss[0];
        double last = (loss[37] + loss[38] + loss[39]) / 3;
        assertTrue(first > 2.5 && last < 0.6 * first, "loss " + first + " -> " + last);
        double[] bpc = Outputs.column(dir.resolve("mixed-fp16-epochs.csv"), "val_bpc");
        Outputs.assertFinite(bpc, "val bpc");
        assertTrue(bpc[0] > 0 && bpc[0] < 0.6 * 4.9, "bpc " + bpc[0]);
        String sample = Files.readString(dir.resolve("mixed-fp16-sample.txt")).strip();
        assertTrue(sample.startsWith("Call me "), sample);
        Outputs.assertPng(dir.resolve("loss.png"));
    }

    @Test
    void charLstmRejectsAMissingTextFile(@TempDir Path tmp) {
        Cli r = Cli.run("char-lstm", "--text", tmp.resolve("absent.txt").toString(), "--out", tmp.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("absent.txt"), r.err());
    }

    @Test
    void dcganWritesAnImageGridPerEpochWithEitherScalerMode(@TempDir Path tmp) throws Exception {
        Path data = Outputs.syntheticFashion(Files.createDirectory(tmp.resolve("data")), 64, 16, 5);
        for (String mode : List.of("shared", "separate")) {
            Path out = tmp.resolve(mode);
            Cli r = Cli.run("dcgan", "--data", data.toString(), "--out", out.toString(), "--scaler", mode,
                    "--epochs", "2", "--max-steps", "2", "--batch", "16", "--width", "4");
            assertEquals(0, r.exitCode(), r.err());
            Path dir = out.resolve("dcgan");
            for (int epoch = 1; epoch <= 2; epoch++) {
                BufferedImage grid = Outputs.assertPng(dir.resolve("mixed-fp16-epoch-" + epoch + ".png"));
                assertEquals(8 * 28 + 9 * 2, grid.getWidth());
                assertEquals(grid.getWidth(), grid.getHeight());
            }
            Outputs.assertFinite(Outputs.column(dir.resolve("mixed-fp16-steps.csv"), "d_loss"), mode + " D loss");
            Outputs.assertFinite(Outputs.column(dir.resolve("mixed-fp16-steps.csv"), "g_loss"), mode + " G loss");
            Outputs.assertPng(dir.resolve("mixed-fp16-gan-loss.png"));
        }
        Cli bad = Cli.run("dcgan", "--scaler", "both");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("Usage:"), bad.err());
    }
}
