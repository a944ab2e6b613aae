/**
 * The compute kernels behind mpt's tensors: static, allocation-free loops over array slices.
 * {@link dev.mpt.core.kernel.Convert} converts FP32 to and from FP16/BF16 in bulk,
 * {@link dev.mpt.core.kernel.Gemm} multiplies matrices with FP32 accumulation,
 * {@link dev.mpt.core.kernel.Parallel} runs independent output blocks on the kernel threads, and
 * {@link dev.mpt.core.kernel.Simd} chooses once between a kernel's plain loops (its specification,
 * always available) and its Panama Vector API implementation.
 *
 * <p>Public classes here validate their arguments; package-private ones compute. Results never
 * depend on the number of threads or on which implementation runs.
 */
package dev.mpt.core.kernel;
