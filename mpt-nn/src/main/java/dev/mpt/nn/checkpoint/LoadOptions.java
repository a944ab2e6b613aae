package dev.mpt.nn.checkpoint;

import java.util.Objects;

/**
 * How {@link Checkpoints#load(dev.mpt.nn.Module, java.nio.file.Path, LoadOptions)} and
 * {@link Checkpoints#loadStateDict(dev.mpt.nn.Module, java.util.Map, LoadOptions)} match a state to a
 * module, as PyTorch's {@code load_state_dict(state, strict)}:
 *
 * <pre>{@code
 * LoadOptions.DEFAULT                                   // strict, lossless dtype conversions only
 * LoadOptions.DEFAULT.withStrict(false)                 // load the matching keys, report the others
 * LoadOptions.DEFAULT.withConversion(Conversion.ROUND)  // e.g. FP32 weights into an FP16 model
 * }</pre>
 *
 * @param strict     every parameter and buffer must have a key and every key a slot; when false,
 *                   missing slots keep their values and unexpected keys are skipped, both listed in
 *                   the {@link LoadResult}. Shapes and dtypes of the keys that match are checked
 *                   either way (as PyTorch does)
 * @param conversion which dtype differences are converted ({@link Conversion})
 */
public record LoadOptions(boolean strict, Conversion conversion) {

    /** Strict, {@link Conversion#LOSSLESS}: what {@code load(module, file)} does. */
    public static final LoadOptions DEFAULT = new LoadOptions(true, Conversion.LOSSLESS);

    /** Checks the arguments. */
    public LoadOptions {
        Objects.requireNonNull(conversion, "LoadOptions: conversion");
    }

    /** These options with {@code strict} set. */
    public LoadOptions withStrict(boolean s) {
        return new LoadOptions(s, conversion);
    }

    /** These options with {@code conversion} set. */
    public LoadOptions withConversion(Conversion c) {
        return new LoadOptions(strict, c);
    }
}
