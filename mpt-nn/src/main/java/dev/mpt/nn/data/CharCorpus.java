package dev.mpt.nn.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.random.RandomGenerator;
import java.util.zip.GZIPInputStream;

/**
 * A text encoded character by character for a character-level language model. The vocabulary is
 * the sorted set of distinct Unicode code points of the text (so it is the same for the same text,
 * whatever its order), and a character's id is its index in that set.
 *
 * <pre>{@code
 * CharCorpus text = CharCorpus.read(Path.of("moby-dick.txt.gz"));
 * CharCorpus.Split s = text.split(0.1);                 // last 10% for validation, same vocabulary
 * for (SequenceBatch b : s.train().sequential(32, 100)) { ... }   // truncated BPTT: row b continues
 * SequenceBatch random = s.train().sample(32, 100, rng);          // or random windows
 * }</pre>
 */
public final class CharCorpus {

    private final int[] vocab;
    private final int[] ids;

    private CharCorpus(int[] vocab, int[] ids) {
        this.vocab = vocab;
        this.ids = ids;
    }

    /** The corpus of {@code text}, with the vocabulary of its distinct characters. */
    public static CharCorpus of(String text) {
        Objects.requireNonNull(text, "text");
        int[] cps = text.codePoints().toArray();
        int[] vocab = Arrays.stream(cps).distinct().sorted().toArray();
        int[] ids = new int[cps.length];
        for (int i = 0; i < cps.length; i++) {
            ids[i] = Arrays.binarySearch(vocab, cps[i]);
        }
        return new CharCorpus(vocab, ids);
    }

    /** Reads a UTF-8 text file, gzip-compressed or not (recognized by its first bytes, not its name). */
    public static CharCorpus read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (InputStream in = Files.newInputStream(file)) {
            return of(readText(in, file.toString()));
        }
    }

    /** Reads UTF-8 text from {@code in}, gzip-compressed or not; does not close {@code in}. */
    public static CharCorpus read(InputStream in) throws IOException {
        Objects.requireNonNull(in, "in");
        return of(readText(in, "input stream"));
    }

    private static String readText(InputStream raw, String source) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        byte[] bytes;
        try {
            bytes = Idx.isGzip(in) ? new GZIPInputStream(in, 1 << 16).readAllBytes() : in.readAllBytes();
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new IOException("CharCorpus: " + source + ": corrupt or truncated gzip data: " + e.getMessage(), e);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException("CharCorpus: " + source + " is not valid UTF-8: " + e, e);
        }
    }

    /** Number of characters (code points) in the text. */
    public int length() {
        return ids.length;
    }

    /** Number of distinct characters, the ids' range {@code [0, vocabSize())}. */
    public int vocabSize() {
        return vocab.length;
    }

    /** The vocabulary as a string: the character with id {@code i} is its {@code i}-th code point. */
    public String vocabulary() {
        return new String(vocab, 0, vocab.length);
    }

    /** The whole text as ids (a copy). */
    public int[] ids() {
        return ids.clone();
    }

    /**
     * The ids of the characters of {@code text}.
     *
     * @throws IllegalArgumentException when {@code text} has a character outside the vocabulary
     */
    public int[] encode(CharSequence text) {
        Objects.requireNonNull(text, "text");
        int[] cps = text.codePoints().toArray();
        int[] out = new int[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int id = Arrays.binarySearch(vocab, cps[i]);
            if (id < 0) {
                throw new IllegalArgumentException("CharCorpus.encode: character '" + Character.toString(cps[i])
                        + "' (U+" + String.format("%04X", cps[i]) + ") at code point " + i + " is not in the vocabulary");
            }
            out[i] = id;
        }
        return out;
    }

    /** The text of {@code ids}. */
    public String decode(int[] ids) {
        return decode(ids, 0, Objects.requireNonNull(ids, "ids").length);
    }

    /**
     * The text of {@code ids[off .. off+len)}.
     *
     * @throws IllegalArgumentException when an id is outside {@code [0, vocabSize())}
     */
    public String decode(int[] ids, int off, int len) {
        Objects.requireNonNull(ids, "ids");
        Objects.checkFromIndexSize(off, len, ids.length);
        StringBuilder sb = new StringBuilder(len);
        for (int i = off; i < off + len; i++) {
            if (ids[i] < 0 || ids[i] >= vocab.length) {
                throw new IllegalArgumentException("CharCorpus.decode: id " + ids[i] + " at index " + i
                        + " is outside [0, " + vocab.length + ")");
            }
            sb.appendCodePoint(vocab[ids[i]]);
        }
        return sb.toString();
    }

    /** A training and a validation part sharing one vocabulary. */
    public record Split(CharCorpus train, CharCorpus validation) {
        /** Validates that both parts are present. */
        public Split {
            Objects.requireNonNull(train, "train");
            Objects.requireNonNull(validation, "validation");
        }
    }

    /**
     * Splits the text in two contiguous parts: the last {@code round(length * validationFraction)}
     * characters for validation, the rest for training. Both keep this corpus's vocabulary, so ids
     * mean the same in both.
     */
    public Split split(double validationFraction) {
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("CharCorpus.split: validationFraction must be in [0, 1], got "
                    + validationFraction);
        }
        int nVal = (int) Math.round(ids.length * validationFraction);
        int cut = ids.length - nVal;
        return new Split(new CharCorpus(vocab, Arrays.copyOf(ids, cut)),
                new CharCorpus(vocab, Arrays.copyOfRange(ids, cut, ids.length)));
    }

    /**
     * {@code batchSize} windows of {@code seqLen} characters, each starting at a position drawn
     * uniformly from {@code [0, length() - seqLen - 1]}, with their next-character targets.
     */
    public SequenceBatch sample(int batchSize, int seqLen, RandomGenerator rng) {
        Objects.requireNonNull(rng, "rng");
        checkSizes("sample", batchSize, seqLen);
        if (ids.length < seqLen + 1) {
            throw new IllegalArgumentException("CharCorpus.sample: seqLen " + seqLen + " needs at least "
                    + (seqLen + 1) + " characters, the corpus has " + ids.length);
        }
        int[] in = new int[batchSize * seqLen];
        int[] tg = new int[batchSize * seqLen];
        for (int b = 0; b < batchSize; b++) {
            int start = rng.nextInt(ids.length - seqLen);
            System.arraycopy(ids, start, in, b * seqLen, seqLen);
            System.arraycopy(ids, start + 1, tg, b * seqLen, seqLen);
        }
        return new SequenceBatch(in, tg, batchSize, seqLen);
    }

    /**
     * One pass over the text for truncated back-propagation through time: the first
     * {@code batchSize * L} characters, {@code L = (length() - 1) / batchSize}, are cut into
     * {@code batchSize} contiguous lanes, and batch {@code k} holds characters
     * {@code [k*seqLen, (k+1)*seqLen)} of every lane (the last batch may be shorter). Row {@code b}
     * of batch {@code k+1} continues row {@code b} of batch {@code k}, so a recurrent state can be
     * carried over.
     */
    public Iterable<SequenceBatch> sequential(int batchSize, int seqLen) {
        checkSizes("sequential", batchSize, seqLen);
        int lane = (ids.length - 1) / batchSize;
        if (lane < 1) {
            throw new IllegalArgumentException("CharCorpus.sequential: batchSize " + batchSize + " needs at least "
                    + (batchSize + 1) + " characters, the corpus has " + ids.length);
        }
        return () -> new Iterator<>() {
            private int t;

            @Override
            public boolean hasNext() {
                return t < lane;
            }

            @Override
            public SequenceBatch next() {
                if (t >= lane) {
                    throw new NoSuchElementException("CharCorpus.sequential: this pass is over");
                }
                int len = Math.min(seqLen, lane - t);
                int[] in = new int[batchSize * len];
                int[] tg = new int[batchSize * len];
                for (int b = 0; b < batchSize; b++) {
                    System.arraycopy(ids, b * lane + t, in, b * len, len);
                    System.arraycopy(ids, b * lane + t + 1, tg, b * len, len);
                }
                t += len;
                return new SequenceBatch(in, tg, batchSize, len);
            }
        };
    }

    private static void checkSizes(String op, int batchSize, int seqLen) {
        if (batchSize < 1 || seqLen < 1) {
            throw new IllegalArgumentException("CharCorpus." + op + ": batchSize and seqLen must be >= 1, got "
                    + batchSize + " and " + seqLen);
        }
        if ((long) batchSize * seqLen > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("CharCorpus." + op + ": batchSize * seqLen = "
                    + (long) batchSize * seqLen + " is too large");
        }
    }

    @Override
    public String toString() {
        return "CharCorpus[length=" + ids.length + ", vocabSize=" + vocab.length + "]";
    }
}
