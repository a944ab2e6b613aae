/**
 * Loss scaling and the FP16 gradient checks that go with it (Micikevicius et al., "Mixed
 * Precision Training", ICLR 2018, section 3.2).
 *
 * <p>{@link dev.mpt.optim.amp.LossScaler} is the scale's state machine ({@code fixed} or
 * {@code dynamic}, immutable values); {@link dev.mpt.optim.amp.Unscale} is the fused pass that
 * divides FP16/BF16/FP32 gradients by the scale into FP32 and reports whether they were all
 * finite; {@link dev.mpt.optim.amp.MasterArrays} rounds FP32 master weights into the FP16/BF16
 * model copy; {@link dev.mpt.optim.amp.GradientStats} measures how gradients fall into FP16's
 * zero, subnormal, normal and overflow ranges (the paper's Figure 3) and suggests a static scale.
 * Everything here works on plain arrays, so optimizers and trainers over any parameter type can
 * reuse it.
 */
package dev.mpt.optim.amp;
