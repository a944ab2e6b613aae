/**
 * Optimizer update rules in FP32 (Micikevicius et al., ICLR 2018, section 3.1: the update is
 * applied to FP32 master weights) and gradient clipping, as array kernels over {@code float[]}
 * master parameters, unscaled gradients and optimizer state, so that any optimizer class over
 * any parameter type can reuse them. Learning-rate schedules live in
 * {@link dev.mpt.optim.schedule}; loss scaling in {@link dev.mpt.optim.amp}.
 */
package dev.mpt.optim;
