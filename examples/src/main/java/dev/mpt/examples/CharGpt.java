package dev.mpt.examples;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.Gpt;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.data.CharCorpus;
import dev.mpt.nn.data.SequenceBatch;
import dev.mpt.nn.loss.Losses;
import dev.mpt.optim.AdamW;
import dev.mpt.optim.amp.AmpOptimizer;
import dev.mpt.optim.amp.Precision;
import dev.mpt.optim.amp.StepOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A character-level decoder-only transformer ({@link Gpt}: learned positions, causal pre-norm
 * blocks, read-out tied to the token table) on Moby-Dick (bundled) or any UTF-8 text, trained with
 * AdamW in two parameter groups of one {@link AmpOptimizer} ({@link Gpt#decayGroups()}: weight
 * decay on the Linear weight matrices only; none on biases, norms and embeddings). Reports validation bits per character on the last 5% of the text (independent
 * windows of {@code --context} characters) and samples text.
 */
@Command(name = "char-gpt", mixinStandardHelpOptions = true,
        description = "Character-level GPT (decoder-only transformer) on Moby-Dick (or --text FILE); "
                + "reports validation bits per character and samples text.")
public final class CharGpt extends TrainingExample {

    @Option(names = "--text", paramLabel = "FILE", description = "a UTF-8 text file, gzip-compressed or not "
            + "(default: the bundled Moby-Dick)")
    Path text;

    @Option(names = "--layers", paramLabel = "L", defaultValue = "4", description = "blocks (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--heads", paramLabel = "H", defaultValue = "4", description = "heads (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--width", paramLabel = "C", defaultValue = "128", description = "width (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--context", paramLabel = "T", defaultValue = "128",
            description = "characters per sequence (default: ${DEFAULT-VALUE})")
    int context;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "sequences per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.001", description = "AdamW learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--weight-decay", paramLabel = "WD", defaultValue = "0.1",
            description = "AdamW weight decay of the Linear weight matrices (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0.1", description = "dropout (default: ${DEFAULT-VALUE})")
    double dropout;

    @Option(names = "--val-chars", paramLabel = "N", defaultValue = "20000",
            description = "validation characters evaluated after each epoch (default: ${DEFAULT-VALUE})")
    int valChars;

    @Option(names = "--sample-length", paramLabel = "N", defaultValue = "300",
            description = "characters to sample after training (default: ${DEFAULT-VALUE})")
    int sampleLength;

    /** Default epochs (one epoch: as many random windows as the training text has characters). */
    static final int DEFAULT_EPOCHS = 1;

    /** AdamW's betas as nanoGPT sets them for small models. */
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.99;
    /** AdamW's eps (PyTorch's default). */
    static final double EPS = 1e-8;

    /** Softmax temperature of the sampling. */
    static final double TEMPERATURE = 0.8;

    private CharCorpus.Split corpus;

    @Override
    protected void validate() {
        var cmd = spec.commandLine();
        CommonOptions.positive(cmd, "--layers", layers);
        CommonOptions.positive(cmd, "--heads", heads);
        CommonOptions.positive(cmd, "--width", width);
        CommonOptions.positive(cmd, "--context", context);
        CommonOptions.positive(cmd, "--batch", batch);
        CommonOptions.positive(cmd, "--val-chars", valChars);
        if (width % heads != 0) {
            throw usageError("--width " + width + " must be a multiple of --heads " + heads);
        }
        if (sampleLength < 0 || !(lr > 0) || !Double.isFinite(lr) || !(weightDecay >= 0) || !(dropout >= 0 && dropout < 1)) {
            throw usageError("need --sample-length >= 0, --lr > 0, --weight-decay >= 0 and --dropout in [0, 1), got "
                    + sampleLength + ", " + lr + ", " + weightDecay + ", " + dropout);
        }
    }

    @Override
    protected String title() {
        return "char-gpt";
    }

    CharCorpus.Split corpus() throws Exception {
        if (corpus == null) {
            corpus = CharLstm.readCorpus(text, (long) common.limit() * context, log);
        }
        return corpus;
    }

    @Override
    protected RunResult train(PrecisionOption p, Path dir) throws Exception {
        CharCorpus.Split data = corpus();
        CharCorpus train = data.train();
        if (train.length() <= context + 1 || data.validation().length() <= context + 1) {
            throw usageError("the text is too short for --context " + context + ": " + train.length() + " training and "
                    + data.validation().length() + " validation characters");
        }
        var model = new Gpt(train.vocabSize(), context, width, layers, heads, dropout, new SplittableRandom(common.seed()));
        AmpOptimizer opt = optimizer(model, p.precision(), lr, weightDecay);
        SplitMix64 rng = SplitMix64.seeded(common.seed());
        String label = p.cliName();
        int epochs = common.epochs(DEFAULT_EPOCHS);
        int perEpoch = (int) Math.min(common.maxSteps(), Math.max(1, train.length() / ((long) batch * context)));
        long total = (long) perEpoch * epochs;
        log.info("{}: {} parameters ({} with weight decay), {} x {} heads x width {}, batch {} x {} characters, {} "
                        + "steps per epoch", label, model.parameterCount(), opt.groups().get(0).parameters().size(), layers,
                heads, width,
                batch, context, perEpoch);
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
                    SequenceBatch b = train.sample(batch, context, rng);
                    opt.zeroGrad();
                    Tensor logits = model.forward(CharLstm.ids(b.inputs(), b.batchSize(), b.seqLen()));
                    Tensor loss = Losses.crossEntropy(logits.reshape(b.batchSize() * b.seqLen(), logits.size(2)),
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
                valBpc = validationBpc(model, data.validation());
                double trainBpc = sum / Math.max(1, finite) / Math.log(2);
                epochsCsv.row(epoch, trainBpc, valBpc, sec);
                log.info(String.format(Locale.ROOT, "%s epoch %d/%d: train %.3f bpc, validation %.3f bpc, %.1f s, "
                        + "%d skipped steps, loss scale %s", label, epoch, epochs, trainBpc, valBpc, sec, skipped,
                        opt.lossScale()));
            }
        }
        String sample = sample(model, train, rng);
        Files.writeString(dir.resolve(label + "-sample.txt"), sample + "\n");
        print("Sample (" + label + "):\n" + sample + "\n");
        SequenceBatch probe = data.validation().sample(batch, context, SplitMix64.seeded(common.seed()));
        long masters = Memory.masters(opt.masterWeights());
        return new RunResult(label, "val bpc", valBpc, seconds / epochs, Memory.weights(model), masters,
                Memory.activations(model, CharLstm.ids(probe.inputs(), batch, context)), k, skipped, opt.lossScale(),
                new double[][] {Arrays.copyOf(xs, k), Arrays.copyOf(ys, k)});
    }

    /**
     * The optimizer of char-gpt: AdamW (nanoGPT's betas for small models) in two groups of one
     * {@link AmpOptimizer}, {@code "decay"} (the Linear weight matrices, weight decay
     * {@code weightDecay}) and {@code "no_decay"} (biases, norms, embeddings), with the precision's
     * default loss scaler; converts the model to the precision's dtype. Public for the step
     * benchmark ({@code dev.mpt.bench.CharGptStepBenchmark}), which times this optimizer.
     */
    public static AmpOptimizer optimizer(Gpt model, Precision precision, double lr, double weightDecay) {
        Map<Boolean, Map<String, Parameter>> groups = model.decayGroups();
        return AmpOptimizer.builder(model)
                .group("decay", groups.get(true), new AdamW(lr, BETA1, BETA2, EPS, weightDecay))
                .group("no_decay", groups.get(false), new AdamW(lr, BETA1, BETA2, EPS, 0))
                .precision(precision)
                .build();
    }

    /**
     * Bits per character on the first {@code --val-chars} characters of the validation text, read
     * as independent windows of {@code --context} characters (each position predicted from the
     * characters before it in its window).
     */
    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    double validationBpc(Gpt model, CharCorpus val) {
        CharCorpus v = val.length() > valChars + 1 ? val.split(1.0 - (double) (valChars + 1) / val.length()).train() : val;
        int lanes = Math.max(1, Math.min(batch, (v.length() - 1) / context));
        double nats = 0;
        long count = 0;
        model.eval();
        try (NoGrad scope = NoGrad.enter()) {
            for (SequenceBatch b : v.sequential(lanes, context)) {
                Tensor logits = model.forward(CharLstm.ids(b.inputs(), b.batchSize(), b.seqLen()));
                Tensor flat = logits.reshape(b.batchSize() * b.seqLen(), logits.size(2));
                nats += Losses.crossEntropy(flat, b.targets()).item() * b.targets().length;
                count += b.targets().length;
            }
        } finally {
            model.train();
        }
        return nats / count / Math.log(2);
    }

    /** Samples {@code --sample-length} characters after a prompt, each from the last context window. */
    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    String sample(Gpt model, CharCorpus vocab, SplitMix64 rng) {
        String prompt = "Call me ";
        int[] ids;
        try {
            ids = vocab.encode(prompt);
        } catch (IllegalArgumentException e) {
            ids = new int[] {vocab.ids()[0]};
            prompt = vocab.decode(ids);
        }
        StringBuilder sb = new StringBuilder(prompt);
        int[] window = ids;
        model.eval();
        try (NoGrad scope = NoGrad.enter()) {
            for (int i = 0; i < sampleLength; i++) {
                int from = Math.max(0, window.length - context);
                int[] ctx = Arrays.copyOfRange(window, from, window.length);
                Tensor logits = model.forward(CharLstm.ids(ctx, 1, ctx.length));
                float[] last = logits.select(1, ctx.length - 1).to(DType.FP32).toFloatArray();
                int next = CharLstm.draw(last, rng, TEMPERATURE);
                sb.append(vocab.decode(new int[] {next}));
                window = Arrays.copyOf(window, window.length + 1);
                window[window.length - 1] = next;
            }
        } finally {
            model.train();
        }
        return sb.toString();
    }
}
