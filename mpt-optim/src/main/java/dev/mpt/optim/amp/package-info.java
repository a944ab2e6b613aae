/**
 * One mixed-precision training step (Micikevicius et al., "Mixed Precision Training", ICLR 2018,
 * Figure 1): FP32 master weights, unscaling with an inf/NaN check, and the skip-or-update decision.
 * No file format lives here; the state is exposed as a value ({@link dev.mpt.optim.amp.AmpState})
 * that {@link dev.mpt.optim.train.OptimizerCheckpoint} writes and reads.
 *
 * <ul>
 *   <li>{@link dev.mpt.optim.amp.AmpOptimizer}: the optimizer wrapper for custom loops
 *       ({@code scale(loss).backward(); step(); zeroGrad()}), its order of calls checked;
 *       gradient accumulation; {@code state()}/{@code restore(AmpState)}; parameter groups
 *       ({@link dev.mpt.optim.amp.ParamGroup}: one optimizer class, per-group hyper-parameters, one
 *       scale, overflow decision and clipping norm).</li>
 *   <li>{@link dev.mpt.optim.amp.Precision}: what is FP16/BF16/FP32, whether masters are kept and
 *       the loss scaled (the paper's recipe and its ablations).</li>
 *   <li>{@link dev.mpt.optim.amp.ScaleHolder}: the mutable holder of the current
 *       {@link dev.mpt.optim.scaling.LossScaler}, owned by one optimizer or shared by several (a
 *       GAN's); it sits here because its overflow record and update counter are the optimizer's
 *       lifecycle.</li>
 *   <li>{@link dev.mpt.optim.amp.MasterWeights}: per parameter the FP32 master, the unscaled FP32
 *       gradient, the optimizer state and the parameter's own step count; {@link dev.mpt.optim.amp.ParameterState} is one
 *       parameter's arrays as a value, {@link dev.mpt.optim.amp.AmpState} the whole optimizer's.</li>
 *   <li>{@link dev.mpt.optim.amp.StepOutcome}: what one step did.</li>
 *   <li>{@code BufferSnapshot}: the model's buffers (BatchNorm's running statistics) copied at
 *       {@code zeroGrad()} and put back when the step is skipped.</li>
 *   <li>Array kernels: {@link dev.mpt.optim.amp.Unscale} (divide FP16/BF16/FP32 gradients by the
 *       scale into FP32 and report whether all were finite, one pass),
 *       {@link dev.mpt.optim.amp.MasterArrays} (round FP32 masters into the 16-bit model copy),
 *       {@link dev.mpt.optim.amp.GradientStats} (how gradients fall into FP16's zero, subnormal,
 *       normal and overflow ranges, the paper's Figure 3).</li>
 * </ul>
 */
package dev.mpt.optim.amp;
