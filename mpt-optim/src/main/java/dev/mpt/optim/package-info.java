/**
 * Optimizers: the {@link dev.mpt.optim.Optimizer} family ({@link dev.mpt.optim.Sgd},
 * {@link dev.mpt.optim.Adam}, {@link dev.mpt.optim.AdamW}: immutable hyper-parameters and a
 * learning-rate schedule), the FP32 update rules they apply to master parameters (Micikevicius et
 * al., ICLR 2018, section 3.1) as array kernels over {@code float[]}
 * ({@link dev.mpt.optim.SgdRule}, {@link dev.mpt.optim.AdamRule}) and gradient clipping by global
 * norm. The checkpointable generator {@link dev.mpt.core.random.SplitMix64} lives in mpt-core.
 * Learning-rate schedules live in {@link dev.mpt.optim.schedule}; master weights, loss scaling,
 * the mixed-precision optimizer wrapper and the trainer in {@link dev.mpt.optim.amp}.
 */
package dev.mpt.optim;
