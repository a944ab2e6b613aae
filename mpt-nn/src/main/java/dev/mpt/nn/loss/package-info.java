/**
 * Losses ({@link dev.mpt.nn.loss.Losses}) computed in FP32 whatever the model's precision, as the
 * paper prescribes, and the {@link dev.mpt.nn.loss.Loss} interface a training loop takes.
 */
package dev.mpt.nn.loss;
