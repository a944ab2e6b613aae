/**
 * Runnable examples and the paper's ablations: {@link dev.mpt.examples.Main} is the command line,
 * each example one subcommand class ({@code fashion-mlp}, {@code fashion-cnn}, {@code char-lstm},
 * {@code dcgan}, {@code loss-scaling}, {@code master-weights}), plus the helpers they share: options,
 * progress lines, CSV metrics, XChart PNGs, memory accounting and the comparison table.
 */
package dev.mpt.examples;
