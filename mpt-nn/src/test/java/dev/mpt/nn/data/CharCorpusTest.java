package dev.mpt.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CharCorpusTest {

    private static final String TEXT = "Call me Ishmael. Some years ago\u2014never mind how long precisely\u2014"
            + "having little or no money in my purse, and nothing particular to interest me on shore, "
            + "I thought I would sail about a little and see the watery part of the world. \uD83D\uDC0B";

    @TempDir
    Path dir;

    @Test
    void vocabularyIsSortedDistinctCodePoints() {
        CharCorpus c = CharCorpus.of("banana\uD83D\uDC0B");
        assertEquals("abn\uD83D\uDC0B", c.vocabulary());
        assertEquals(4, c.vocabSize());
        assertArrayEquals(new int[] {1, 0, 2, 0, 2, 0, 3}, c.ids());
        assertEquals(c.vocabulary(), CharCorpus.of("\uD83D\uDC0Bnnaaab").vocabulary());
    }

    @Test
    void encodeDecodeRoundTrip() {
        CharCorpus c = CharCorpus.of(TEXT);
        assertEquals(TEXT.codePointCount(0, TEXT.length()), c.length());
        assertEquals(TEXT, c.decode(c.ids()));
        assertArrayEquals(c.ids(), c.encode(TEXT));
        assertEquals("whale", c.decode(c.encode("whale")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.encode("Queequeg"));
        assertTrue(e.getMessage().contains("'Q'") && e.getMessage().contains("U+0051"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.decode(new int[] {c.vocabSize()}));
        assertThrows(IllegalArgumentException.class, () -> c.decode(new int[] {-1}));
    }

    @Test
    void sampledTargetsAreTheNextCharacters() {
        CharCorpus c = CharCorpus.of(TEXT);
        SequenceBatch b = c.sample(5, 12, new SplittableRandom(1));
        assertArrayEquals(new int[] {5, 12}, b.shape());
        for (int r = 0; r < 5; r++) {
            String in = c.decode(b.inputs(), r * 12, 12);
            String tg = c.decode(b.targets(), r * 12, 12);
            assertEquals(in.substring(in.offsetByCodePoints(0, 1)), tg.substring(0, tg.offsetByCodePoints(tg.length(), -1)));
            assertTrue(TEXT.contains(in + tg.substring(tg.offsetByCodePoints(tg.length(), -1))), in + " / " + tg);
        }
        SequenceBatch again = c.sample(5, 12, new SplittableRandom(1));
        assertArrayEquals(b.inputs(), again.inputs());
        SequenceBatch other = c.sample(5, 12, new SplittableRandom(2));
        assertFalse(java.util.Arrays.equals(b.inputs(), other.inputs()));
        // the window may end on the last character
        SequenceBatch whole = CharCorpus.of("abc").sample(1, 2, new SplittableRandom(0));
        assertEquals("ab", CharCorpus.of("abc").decode(whole.inputs()));
        assertThrows(IllegalArgumentException.class, () -> CharCorpus.of("abc").sample(1, 3, new SplittableRandom(0)));
    }

    @Test
    void sequentialBatchesContinueEachRow() {
        CharCorpus c = CharCorpus.of(TEXT);
        int batch = 4;
        int seq = 10;
        List<SequenceBatch> batches = new ArrayList<>();
        c.sequential(batch, seq).forEach(batches::add);
        int lane = (c.length() - 1) / batch;
        assertEquals((lane + seq - 1) / seq, batches.size());
        int[] ids = c.ids();
        for (int r = 0; r < batch; r++) {
            StringBuilder in = new StringBuilder();
            StringBuilder tg = new StringBuilder();
            for (SequenceBatch b : batches) {
                in.append(c.decode(b.inputs(), r * b.seqLen(), b.seqLen()));
                tg.append(c.decode(b.targets(), r * b.seqLen(), b.seqLen()));
            }
            assertEquals(c.decode(ids, r * lane, lane), in.toString(), "row " + r + " inputs");
            assertEquals(c.decode(ids, r * lane + 1, lane), tg.toString(), "row " + r + " targets");
        }
        assertEquals(lane - (batches.size() - 1) * seq, batches.getLast().seqLen());
        assertThrows(IllegalArgumentException.class, () -> CharCorpus.of("ab").sequential(2, 1));
    }

    @Test
    void splitSharesTheVocabulary() {
        CharCorpus c = CharCorpus.of(TEXT);
        CharCorpus.Split s = c.split(0.25);
        int nVal = (int) Math.round(c.length() * 0.25);
        assertEquals(nVal, s.validation().length());
        assertEquals(c.length() - nVal, s.train().length());
        assertEquals(c.vocabulary(), s.train().vocabulary());
        assertEquals(c.vocabulary(), s.validation().vocabulary());
        assertEquals(TEXT, s.train().decode(s.train().ids()) + s.validation().decode(s.validation().ids()));
        assertThrows(IllegalArgumentException.class, () -> c.split(-0.1));
    }

    @Test
    void readsPlainAndGzippedUtf8() throws IOException {
        byte[] utf8 = TEXT.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bos)) {
            g.write(utf8);
        }
        Path plain = dir.resolve("text.gz"); // the name does not decide
        Path gz = dir.resolve("text.txt");
        Files.write(plain, utf8);
        Files.write(gz, bos.toByteArray());
        assertEquals(TEXT, decodeAll(CharCorpus.read(plain)));
        assertEquals(TEXT, decodeAll(CharCorpus.read(gz)));
        assertEquals(TEXT, decodeAll(CharCorpus.read(new ByteArrayInputStream(bos.toByteArray()))));
        Path bad = dir.resolve("latin1.txt");
        Files.write(bad, new byte[] {'c', 'a', 'f', (byte) 0xe9});
        IOException e = assertThrows(IOException.class, () -> CharCorpus.read(bad));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }

    private static String decodeAll(CharCorpus c) {
        return c.decode(c.ids());
    }

    @Test
    void readsTheMobyDickTextShippedForTheExamples() throws IOException {
        Path moby = Path.of("../examples/src/main/resources/dev/mpt/examples/data/moby-dick.txt.gz");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(moby), "run from the mpt-nn module directory");
        CharCorpus c = CharCorpus.read(moby);
        assertTrue(c.length() > 1_000_000, "length " + c.length());
        assertTrue(c.vocabSize() < 200, "vocabSize " + c.vocabSize());
        assertTrue(c.decode(c.ids(), 0, 200).contains("Call me Ishmael."), c.decode(c.ids(), 0, 200));
        assertEquals("Call me Ishmael.", c.decode(c.encode("Call me Ishmael.")));
    }

    @Test
    void rejectsBadSizes() {
        CharCorpus c = CharCorpus.of(TEXT);
        assertThrows(IllegalArgumentException.class, () -> c.sample(0, 5, new SplittableRandom(0)));
        assertThrows(IllegalArgumentException.class, () -> c.sequential(2, 0));
        assertThrows(NullPointerException.class, () -> c.sample(1, 5, null));
        assertThrows(IllegalArgumentException.class, () -> new SequenceBatch(new int[2], new int[3], 1, 2));
    }
}
