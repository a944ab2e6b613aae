/**
 * The training loop, its epoch driver with callbacks, and its checkpoint file.
 * <ul>
 *   <li>{@link dev.mpt.optim.train.Trainer}: builder, {@code step}, {@code fit}, {@code evaluate},
 *       {@code save}/{@code restore}; it wraps one {@link dev.mpt.optim.amp.AmpOptimizer}; trains on
 *       class labels and on float targets;</li>
 *   <li>{@link dev.mpt.optim.train.StepResult}: a step's loss and the optimizer's
 *       {@link dev.mpt.optim.amp.StepOutcome}; {@link dev.mpt.optim.train.Evaluation}: accuracy and
 *       mean loss;</li>
 *   <li>{@code fit}: {@link dev.mpt.optim.train.FitOptions} (epochs, batch size, shuffling,
 *       callbacks), {@link dev.mpt.optim.train.History} of {@link dev.mpt.optim.train.EpochMetrics}
 *       (and its CSV), {@link dev.mpt.optim.train.Metric} and {@link dev.mpt.optim.train.Mode} (what a
 *       callback monitors); {@code FitLoop} (the epoch loop) and {@code FitData} (the two kinds of
 *       dataset it runs on), package-private;</li>
 *   <li>callbacks: the {@link dev.mpt.optim.train.Callback} interface and its
 *       {@link dev.mpt.optim.train.FitContext}; {@link dev.mpt.optim.train.EarlyStopping},
 *       {@link dev.mpt.optim.train.BestCheckpoint}, {@link dev.mpt.optim.train.ReduceLROnPlateau};
 *       {@code CallbackChecks} (their argument checks);</li>
 *   <li>{@link dev.mpt.optim.train.OptimizerCheckpoint}: the safetensors names of an
 *       {@link dev.mpt.optim.amp.AmpState} under a prefix (usable for custom loops with several
 *       optimizers); {@code TrainerCheckpoint}: the trainer's whole file (model, optimizer,
 *       learning-rate factor, random generator);</li>
 *   <li>package-private helpers: {@code Evaluator} (the evaluation pass and the output check),
 *       {@code ProgressLog} (the periodic log lines), {@code BatchChecks} (batch, label and output
 *       validation), {@code LearningRateFactor} (the trainer's factor on every group's schedule).</li>
 * </ul>
 */
package dev.mpt.optim.train;
