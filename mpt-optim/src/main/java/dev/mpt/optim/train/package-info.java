/**
 * The training loop for classifiers and its checkpoint file.
 * <ul>
 *   <li>{@link dev.mpt.optim.train.Trainer}: builder, {@code step}, {@code evaluate},
 *       {@code save}/{@code restore}; it wraps one {@link dev.mpt.optim.amp.AmpOptimizer};</li>
 *   <li>{@link dev.mpt.optim.train.StepResult}: a step's loss and the optimizer's
 *       {@link dev.mpt.optim.amp.StepOutcome}; {@link dev.mpt.optim.train.Evaluation}: accuracy and
 *       mean loss;</li>
 *   <li>{@link dev.mpt.optim.train.OptimizerCheckpoint}: the safetensors names of an
 *       {@link dev.mpt.optim.amp.AmpState} under a prefix (usable for custom loops with several
 *       optimizers); {@code TrainerCheckpoint}: the trainer's whole file (model, optimizer, random
 *       generator);</li>
 *   <li>package-private helpers: {@code Evaluator} (the evaluation pass), {@code ProgressLog}
 *       (the periodic log line), {@code BatchChecks} (batch and label validation).</li>
 * </ul>
 */
package dev.mpt.optim.train;
