/**
 * Number formats, a leaf package that imports only {@code java.*}: {@link dev.mpt.core.number.Half}
 * (IEEE 754 binary16) and {@link dev.mpt.core.number.BFloat16} (bfloat16) as correctly rounded
 * value types with their static bit-pattern arithmetic, {@link dev.mpt.core.number.DType} (a
 * tensor's element type), and the package-private {@code Rounding} (round-to-odd helpers that make
 * double-then-narrow conversions correctly rounded, and shortest decimal printing) that both
 * formats share. The kernels and the tensor depend on this package, never the other way.
 */
package dev.mpt.core.number;
