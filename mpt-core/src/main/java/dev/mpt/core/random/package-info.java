/**
 * Random generators whose state a checkpoint can save, a leaf package that imports only
 * {@code java.*}: {@link dev.mpt.core.random.SplitMix64}, used for shuffling, dropout masks and
 * initialization so that a resumed run draws the numbers the uninterrupted run would have drawn.
 */
package dev.mpt.core.random;
