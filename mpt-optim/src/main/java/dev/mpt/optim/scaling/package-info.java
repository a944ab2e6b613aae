/**
 * Loss scaling as a small immutable state machine (Micikevicius et al., ICLR 2018, section 3.2),
 * one name per idea:
 * <ul>
 *   <li>{@link dev.mpt.optim.scaling.LossScaler}: the scaler, a sealed family of immutable
 *       values: {@link dev.mpt.optim.scaling.FixedLossScaler} (the scale never changes) and
 *       {@link dev.mpt.optim.scaling.DynamicLossScaler} (back off on overflow, grow after a run of
 *       finite steps).</li>
 *   <li>{@link dev.mpt.optim.scaling.ScalerState}: a scaler's changing part (scale, counters) as
 *       one record, the part a checkpoint saves.</li>
 *   <li>{@link dev.mpt.optim.scaling.ScaleDecision}: what {@code adjust(gradsFinite)} decided:
 *       skip or not, and the next scaler.</li>
 *   <li>{@code MinimumScaleWarning}: the one log line for a scale stuck at its minimum.</li>
 * </ul>
 * Nothing here knows optimizers or files; the holder that optimizers read and update is
 * {@link dev.mpt.optim.amp.ScaleHolder}.
 */
package dev.mpt.optim.scaling;
