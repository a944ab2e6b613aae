/**
 * Optimizers: the {@link dev.mpt.optim.Optimizer} family ({@link dev.mpt.optim.Sgd},
 * {@link dev.mpt.optim.Adam}, {@link dev.mpt.optim.AdamW}: immutable hyper-parameters and a
 * learning-rate schedule), the FP32 update rules they apply to master parameters (Micikevicius et
 * al., ICLR 2018, section 3.1) as array kernels over {@code float[]}
 * ({@link dev.mpt.optim.SgdRule}, {@link dev.mpt.optim.AdamRule}), gradient clipping by global
 * norm, and {@link dev.mpt.optim.SplitMix64}, a random generator whose state a checkpoint can save.
 * Learning-rate schedules live in {@link dev.mpt.optim.schedule}; master weights, loss scaling,
 * the mixed-precision optimizer wrapper and the trainer in {@link dev.mpt.optim.amp}.
 */
package dev.mpt.optim;
