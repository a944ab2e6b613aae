/**
 * Optimizers: the {@link dev.mpt.optim.Optimizer} family ({@link dev.mpt.optim.Sgd},
 * {@link dev.mpt.optim.Adam}, {@link dev.mpt.optim.AdamW}: immutable hyper-parameters and a
 * learning-rate schedule), the FP32 update rules they apply to master parameters (Micikevicius et
 * al., ICLR 2018, section 3.1) as array kernels over {@code float[]}
 * ({@link dev.mpt.optim.SgdRule}, {@link dev.mpt.optim.AdamRule}, their argument checks in
 * {@code RuleChecks}) and gradient clipping by global norm. The checkpointable generator
 * {@link dev.mpt.core.random.SplitMix64} lives in mpt-core.
 *
 * <p>The rest of the module, read top-down:
 * <ul>
 *   <li>{@link dev.mpt.optim.train}: the training loop ({@link dev.mpt.optim.train.Trainer}),
 *       its evaluation, progress log and checkpoint file;</li>
 *   <li>{@link dev.mpt.optim.amp}: one mixed-precision step (FP32 masters, unscale, inf/NaN
 *       check, skip or update) behind {@link dev.mpt.optim.amp.AmpOptimizer};</li>
 *   <li>{@link dev.mpt.optim.scaling}: the loss scale's state machine
 *       ({@link dev.mpt.optim.scaling.LossScaler}, fixed or dynamic);</li>
 *   <li>{@link dev.mpt.optim.schedule}: learning-rate schedules.</li>
 * </ul>
 * Dependencies point down that list: train uses amp, amp uses scaling; none uses train.
 */
package dev.mpt.optim;
