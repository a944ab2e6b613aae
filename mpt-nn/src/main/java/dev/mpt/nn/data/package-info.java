/**
 * Training data as plain arrays: the IDX reader ({@link dev.mpt.nn.data.Idx}), the MNIST and
 * Fashion-MNIST loaders, the bundled 8x8 {@link dev.mpt.nn.data.Digits}, the
 * {@link dev.mpt.nn.data.Dataset} with standardization ({@link dev.mpt.nn.data.Standardization}), seeded shuffling and {@link dev.mpt.nn.data.Batch}es,
 * and the character-level {@link dev.mpt.nn.data.CharCorpus} for language models; the user's own
 * arrays become a {@code Dataset} ({@link dev.mpt.nn.data.Dataset#ofRows}, class labels) or a
 * {@link dev.mpt.nn.data.TargetDataset} (float targets: regression, multi-hot labels) with its
 * {@link dev.mpt.nn.data.TargetBatch}es.
 *
 * <p>Features are {@code float[]} in row-major order, one row of {@code featureSize} values per
 * sample; labels are {@code int} class indices (or float target rows). Layers wrap these arrays in
 * tensors.
 */
package dev.mpt.nn.data;
