/**
 * Models as trees of {@link dev.mpt.nn.Module}s: layers whose dot products run in FP16 with FP32
 * accumulation, and normalization layers whose parameters and statistics stay FP32.
 */
package dev.mpt.nn;
