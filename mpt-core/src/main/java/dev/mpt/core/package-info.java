/**
 * Numbers and tensors: {@link dev.mpt.core.Half} (IEEE 754 binary16) and
 * {@link dev.mpt.core.BFloat16}, correctly rounded, and the tensor that stores them.
 */
package dev.mpt.core;
