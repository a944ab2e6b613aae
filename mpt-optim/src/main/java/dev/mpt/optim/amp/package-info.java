/**
 * Mixed-precision training (Micikevicius et al., "Mixed Precision Training", ICLR 2018): FP32
 * master weights, loss scaling, and the training loop that combines them.
 *
 * <p>From the top: {@link dev.mpt.optim.amp.Trainer} trains a classifier batch by batch in a
 * {@link dev.mpt.optim.amp.Precision} and saves resumable checkpoints;
 * {@link dev.mpt.optim.amp.AmpOptimizer} is the same step for custom loops ({@code scale(loss)
 * .backward(); step(); zeroGrad()}), with gradient accumulation and optimizers that share a
 * {@link dev.mpt.optim.amp.LossScaling}; {@link dev.mpt.optim.amp.MasterWeights} holds the FP32
 * masters, unscaled gradients and optimizer state of a set of parameters.
 *
 * <p>Array level: {@link dev.mpt.optim.amp.LossScaler} is the scale's state machine
 * ({@code fixed} or {@code dynamic}, immutable values); {@link dev.mpt.optim.amp.Unscale} is the
 * fused pass that divides FP16/BF16/FP32 gradients by the scale into FP32 and reports whether they
 * were all finite; {@link dev.mpt.optim.amp.MasterArrays} rounds FP32 master weights into the
 * FP16/BF16 model copy; {@link dev.mpt.optim.amp.GradientStats} measures how gradients fall into
 * FP16's zero, subnormal, normal and overflow ranges (the paper's Figure 3) and suggests a static
 * scale.
 */
package dev.mpt.optim.amp;
