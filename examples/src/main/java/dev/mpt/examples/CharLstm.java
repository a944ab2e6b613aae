package dev.mpt.examples;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.Embedding;
import dev.mpt.nn.Lambda;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Lstm;
import dev.mpt.nn.LstmOutput;
import dev.mpt.nn.LstmState;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.CharCorpus;
import dev.mpt.nn.data.SequenceBatch;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.Adam;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.StepOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A character-level language model: embedding, a 2-layer LSTM and a linear read-out, trained on
 * Moby-Dick (bundled) or any UTF-8 text ({@code --text}) with a custom loop over
 * {@link AmpOptimizer} (scale, backward, unscale-check-clip-update). Reports validation
 * bits per character on the last 5% of the text and samples text from the trained model.
 * The LSTM keeps its gate non-linearities and cell state in FP32 in every precision.
 */
@Command(name = "char-lstm", mixinStandardHelpOptions = true,
        description = "Character-level 2-layer LSTM language model on Moby-Dick (or --text FILE); "
                + "reports validation bits per character and samples text.")
public final class CharLstm extends TrainingExample {

    /** The bundled text. */
    static final String MOBY_DICK = "data/moby-dick.txt.gz";

    @Option(names = "--text", paramLabel = "FILE", description = "a UTF-8 text file, gzip-compressed or not "
            + "(default: the bundled Moby-Dick)")
    Path text;

    @Option(names = "--hidden", paramLabel = "H", defaultValue = "128", description = "LSTM width (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--embedding", paramLabel = "E", defaultValue = "32", description = "embedding width (default: ${DEFAULT-VALUE})")
    int embedding;

    @Option(names = "--seq-len", paramLabel = "T", defaultValue = "64", description = "characters per sequence (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "sequences per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.002", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--val-chars", paramLabel = "N", defaultValue = "20000",
            description = "validation characters evaluated after each epoch (default: ${DEFAULT-VALUE})")
    int valChars;

    @Option(names = "--sample-length", paramLabel = "N", defaultValue = "300",
            description = "characters to sample after training (default: ${DEFAULT-VALUE})")
    int sampleLength;

    /** Default epochs (one epoch: as many random windows as the training text has characters). */
    static final int DEFAULT_EPOCHS = 1;

    /** Gradient clipping norm: keeps an LSTM's occasional large gradients from derailing Adam. */
    public static final double CLIP_NORM = 5.0;

    /** Softmax temperature of the sampling. */
    static final double TEMPERATURE = 0.8;

    private CharCorpus.Split corpus;

    /** The model's parts, kept for stateful sampling; the Sequential is what trains. */
    public record CharModel(Sequential net, Embedding embedding, Lstm lstm, Linear readout) {
    }

    /**
     * The model, initialised from {@code seed}: {@code Embedding(vocab, emb)}, a 2-layer
     * batch-first {@code Lstm(emb, hidden)}, and {@code Linear(hidden, vocab)} over every position.
     * Its {@code net} maps ids {@code [batch, time]} to logits {@code [batch * time, vocab]}.
     * Public for mpt-bench's peer benchmark.
     */
    public static CharModel model(long seed, int vocab, int emb, int hidden) {
        var rng = new SplittableRandom(seed);
        var e = new Embedding(vocab, emb, rng);
        var lstm = new Lstm(emb, hidden, 2, true, rng);
        var out = new Linear(hidden, vocab, rng);
        var net = new Sequential(e, lstm, new Lambda("flatten time", x -> x.reshape(x.size(0) * x.size(1), x.size(2))),
                out);
        return new CharModel(net, e, lstm, out);
    }

    @Override
    protected void validate() {
        var cmd = spec.commandLine();
        CommonOptions.width(cmd, "--hidden", hidden);
        CommonOptions.width(cmd, "--embedding", embedding);
        CommonOptions.positive(cmd, "--seq-len", seqLen);
        CommonOptions.positive(cmd, "--batch", batch);
        CommonOptions.positive(cmd, "--val-chars", valChars);
        CommonOptions.finitePositive(cmd, "--lr", lr);
        if (sampleLength < 0) {
            throw usageError("--sample-length must be >= 0, got " + sampleLength);
        }
    }

    @Override
    protected String title() {
        return "char-lstm";
    }

    CharCorpus.Split corpus() throws IOException {
        if (corpus == null) {
            corpus = readCorpus(text, (long) common.limit() * seqLen, log);
        }
        return corpus;
    }

    /**
     * The text of {@code file} (or the bundled Moby-Dick when null), cut to {@code cap} characters,
     * split 95/5 into training and validation parts; shared with {@link CharGpt}.
     */
    static CharCorpus.Split readCorpus(Path file, long cap, org.slf4j.Logger log) throws IOException {
        CharCorpus all;
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null, "no such text file");
            }
            all = CharCorpus.read(file);
        } else {
            try (InputStream in = CharLstm.class.getResourceAsStream(MOBY_DICK)) {
                if (in == null) {
                    throw new NoSuchFileException(MOBY_DICK, null, "bundled text missing from the class path");
                }
                all = CharCorpus.read(in);
            }
        }
        if (cap < all.length()) {
            all = CharCorpus.of(all.decode(all.ids(), 0, (int) cap));
        }
        log.info("text: {} characters, vocabulary {}", all.length(), all.vocabSize());
        return all.split(0.05);
    }

    @Override
    protected RunResult train(PrecisionOption p, Path dir) throws Exception {
        CharCorpus.Split data = corpus();
        CharCorpus train = data.train();
        if (train.length() <= seqLen + 1 || data.validation().length() <= seqLen + 1) {
            throw usageError("the text is too short for --seq-len " + seqLen + ": " + train.length() + " training and "
                    + data.validation().length() + " validation characters");
        }
        CharModel m = model(common.seed(), train.vocabSize(), embedding, hidden);
        AmpOptimizer opt = AmpOptimizer.builder(m.net(), new Adam(lr)).precision(p.precision())
                .clipGradNorm(CLIP_NORM).build();
        SplitMix64 rng = SplitMix64.seeded(common.seed());
        String label = p.cliName();
        int epochs = common.epochs(DEFAULT_EPOCHS);
        int perEpoch = (int) Math.min(common.maxSteps(), Math.max(1, train.length() / ((long) batch * seqLen)));
        long total = (long) perEpoch * epochs;
        log.info("{}: {} parameters, LSTM 2 x {}, batch {} x {} characters, {} steps per epoch", label,
                m.net().parameterCount(), hidden, batch, seqLen, perEpoch);
        var progress = new Progress(log, label, total, Duration.ofSeconds(10));
        double[] xs = new double[(int) total];
        double[] ys = new double[(int) total];
        int k = 0;
        long skipped = 0;
        double seconds = 0;
        double valBpc = Double.NaN;
        try (var steps = new MetricsCsv(dir.resolve(label + "-steps.csv"), List.of("step", "epoch", "loss", "bpc",
                "scale", "skipped"));
             var epochsCsv = new MetricsCsv(dir.resolve(label + "-epochs.csv"), List.of("epoch", "train_bpc",
                     "val_bpc", "train_seconds"))) {
            for (int epoch = 1; epoch <= epochs; epoch++) {
                long t0 = System.nanoTime();
                double sum = 0;
                int finite = 0;
                for (int s = 0; s < perEpoch; s++) {
                    SequenceBatch b = train.sample(batch, seqLen, rng);
                    opt.zeroGrad();
                    Tensor loss = Losses.crossEntropy(m.net().forward(ids(b.inputs(), b.batchSize(), b.seqLen())),
                            b.targets());
                    double value = loss.item();
                    opt.scale(loss).backward();
                    StepOutcome o = opt.step();
                    skipped += o.skipped() ? 1 : 0;
                    xs[k] = o.step();
                    ys[k++] = value;
                    if (Double.isFinite(value)) {
                        sum += value;
                        finite++;
                    }
                    steps.row(o.step(), epoch, value, value / Math.log(2), o.scale(), o.skipped() ? 1 : 0);
                    progress.step(o.step(), b.batchSize(), value, o.scale(), skipped);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                seconds += sec;
                valBpc = validationBpc(m, data.validation());
                double trainBpc = sum / Math.max(1, finite) / Math.log(2);
                epochsCsv.row(epoch, trainBpc, valBpc, sec);
                log.info(String.format(Locale.ROOT, "%s epoch %d/%d: train %.3f bpc, validation %.3f bpc, %.1f s", label,
                        epoch, epochs, trainBpc, valBpc, sec));
            }
        }
        String sample = sample(m, train, rng);
        Files.writeString(dir.resolve(label + "-sample.txt"), sample + "\n");
        print("Sample (" + label + "):\n" + sample + "\n");
        SequenceBatch probe = data.validation().sample(batch, seqLen, SplitMix64.seeded(common.seed()));
        return new RunResult(label, "val bpc", valBpc, seconds / epochs, Memory.weights(m.net()),
                Memory.masters(opt.masterWeights()), Memory.activations(m.net(), ids(probe.inputs(), batch, seqLen)),
                k, skipped, opt.lossScale(), new double[][] {Arrays.copyOf(xs, k), Arrays.copyOf(ys, k)});
    }

    /** Character ids as an FP32 tensor {@code [rows, cols]} (ids are exact in FP32 up to 2^24). */
    static Tensor ids(int[] ids, int rows, int cols) {
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            f[i] = ids[i];
        }
        return Tensor.of(f, rows, cols);
    }

    /**
     * Bits per character on the first {@code --val-chars} characters of the validation text, read
     * in contiguous lanes with the LSTM state carried from one window to the next.
     */
    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    double validationBpc(CharModel m, CharCorpus val) {
        // split(f) keeps the vocabulary; its training part is the first (1 - f) of the text
        CharCorpus v = val.length() > valChars + 1 ? val.split(1.0 - (double) (valChars + 1) / val.length()).train() : val;
        int lanes = Math.max(1, Math.min(batch, (v.length() - 1) / seqLen));
        double nats = 0;
        long count = 0;
        m.net().eval();
        try (NoGrad scope = NoGrad.enter()) {
            LstmState state = null;
            for (SequenceBatch b : v.sequential(lanes, seqLen)) {
                Tensor x = m.embedding().lookup(b.inputs(), b.batchSize(), b.seqLen());
                LstmOutput o = m.lstm().forward(x, state);
                state = o.state();
                Tensor h = o.output();
                Tensor logits = m.readout().forward(h.reshape(b.batchSize() * b.seqLen(), h.size(2)));
                nats += Losses.crossEntropy(logits, b.targets()).item() * b.targets().length;
                count += b.targets().length;
            }
        } finally {
            m.net().train();
        }
        return nats / count / Math.log(2);
    }

    /** Samples {@code --sample-length} characters after a prompt, at temperature {@link #TEMPERATURE}. */
    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    String sample(CharModel m, CharCorpus vocab, SplitMix64 rng) {
        String prompt = "Call me ";
        int[] ids;
        try {
            ids = vocab.encode(prompt);
        } catch (IllegalArgumentException e) {
            ids = new int[] {vocab.ids()[0]};
            prompt = vocab.decode(ids);
        }
        StringBuilder sb = new StringBuilder(prompt);
        m.net().eval();
        try (NoGrad scope = NoGrad.enter()) {
            LstmOutput o = m.lstm().forward(m.embedding().lookup(ids, 1, ids.length), null);
            for (int i = 0; i < sampleLength; i++) {
                Tensor h = o.output().select(1, o.output().size(1) - 1);
                float[] logits = m.readout().forward(h).to(DType.FP32).toFloatArray();
                int next = draw(logits, rng, TEMPERATURE);
                sb.append(vocab.decode(new int[] {next}));
                o = m.lstm().forward(m.embedding().lookup(new int[] {next}, 1, 1), o.state());
            }
        } finally {
            m.net().train();
        }
        return sb.toString();
    }

    /** A draw from softmax(logits / temperature); shared with {@link CharGpt}. */
    static int draw(float[] logits, SplitMix64 rng, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) {
                return i;
            }
        }
        return p.length - 1;
    }
}
