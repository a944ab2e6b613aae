package dev.mpt.optim.train;

import dev.mpt.core.Tensor;

/**
 * The epoch loop of {@link Trainer#fit}: checks everything before the first step, then per epoch
 * trains on every batch, validates, records an {@link EpochMetrics}, logs and runs the callbacks.
 */
final class FitLoop {

    private static final String OP = "Trainer.fit";

    private FitLoop() {
    }

    /**
     * Runs the fit. Before any step: the data are non-empty and agree with each other, the model's
     * output for the first training sample fits the targets, and every callback accepts the fit.
     */
    static <B> History run(Trainer trainer, ProgressLog progress, FitData<B> train, FitData<?> validation,
                           FitOptions options) {
        if (train.size() == 0) {
            throw new IllegalArgumentException(OP + ": the training data is empty");
        }
        if (validation != null) {
            if (validation.size() == 0) {
                throw new IllegalArgumentException(OP + ": the validation data is empty");
            }
            train.checkValidation(OP, validation);
        }
        Tensor probe = Evaluator.probe(trainer.model(), trainer.precision().modelDtype(), train.firstInput());
        train.checkOutput(OP, probe, 1);

        long stepsPerEpoch = (train.size() + (long) options.batchSize() - 1) / options.batchSize();
        FitContext ctx = new FitContext(trainer, options.epochs(), stepsPerEpoch, validation != null,
                validation != null && validation.classification());
        for (Callback c : options.callbacks()) {
            c.onFitStart(ctx);
        }
        progress.startFit(options.epochs(), stepsPerEpoch);
        try {
            for (int e = 1; e <= options.epochs() && !ctx.stopRequested(); e++) {
                ctx.startEpoch(e);
                progress.startEpoch(e);
                EpochMetrics m = epoch(trainer, train, validation, options, ctx, e);
                ctx.add(m);
                progress.afterEpoch(m, ctx.history());
                for (Callback c : options.callbacks()) {
                    c.onEpochEnd(ctx, m);
                }
            }
        } finally {
            progress.endFit();
        }
        History h = ctx.history();
        for (Callback c : options.callbacks()) {
            c.onFitEnd(ctx, h);
        }
        return h;
    }

    private static <B> EpochMetrics epoch(Trainer trainer, FitData<B> train, FitData<?> validation, FitOptions options,
                                          FitContext ctx, int e) {
        long start = System.nanoTime();
        double lossSum = 0;
        long lossSamples = 0;
        long samples = 0;
        long steps = 0;
        long skipped = 0;
        double lr = trainer.learningRate();
        for (B b : train.batches(options.batchSize(), options.shuffle() ? trainer.random() : null)) {
            StepResult r = train.step(trainer, b);
            int n = train.samples(b);
            samples += n;
            steps++;
            if (Double.isFinite(r.loss())) {
                lossSum += r.loss() * n;
                lossSamples += n;
            }
            if (r.outcome().skipped()) {
                skipped++;
            }
            lr = r.outcome().learningRate();
            for (Callback c : options.callbacks()) {
                c.onStepEnd(ctx, r);
            }
        }
        double trainSeconds = (System.nanoTime() - start) * 1e-9;
        Evaluation v = validation == null ? null : validation.evaluate(trainer, options.evalBatchSize());
        double seconds = (System.nanoTime() - start) * 1e-9;
        return new EpochMetrics(e, lossSamples == 0 ? Double.NaN : lossSum / lossSamples,
                v == null ? Double.NaN : v.meanLoss(), v == null ? Double.NaN : v.accuracy(), lr,
                trainer.optimizer().lossScale(), steps, skipped, seconds, samples / Math.max(1e-9, trainSeconds));
    }
}
