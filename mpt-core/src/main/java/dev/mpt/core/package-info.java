/**
 * Numbers and tensors: {@link dev.mpt.core.number.Half} (IEEE 754 binary16) and
 * {@link dev.mpt.core.number.BFloat16}, correctly rounded; {@link dev.mpt.core.number.DType}; and
 * {@link dev.mpt.core.Tensor}, the FP32/FP16/BF16 n-dimensional array with reverse-mode autograd,
 * with {@link dev.mpt.core.NoGrad} scopes. The op implementations (point-wise, reductions,
 * matmul, views) live in package-private classes, each op's gradient rule next to its forward.
 */
package dev.mpt.core;
