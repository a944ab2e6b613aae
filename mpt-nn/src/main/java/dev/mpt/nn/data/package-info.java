/**
 * Training data as plain arrays: the IDX reader ({@link dev.mpt.nn.data.Idx}), the MNIST and
 * Fashion-MNIST loaders, the bundled 8x8 {@link dev.mpt.nn.data.Digits}, the
 * {@link dev.mpt.nn.data.Dataset} with standardization ({@link dev.mpt.nn.data.Standardization}), seeded shuffling and {@link dev.mpt.nn.data.Batch}es,
 * and the character-level {@link dev.mpt.nn.data.CharCorpus} for language models.
 *
 * <p>Features are {@code float[]} in row-major order, one row of {@code featureSize} values per
 * sample; labels are {@code int} class indices. Layers wrap these arrays in tensors.
 */
package dev.mpt.nn.data;
