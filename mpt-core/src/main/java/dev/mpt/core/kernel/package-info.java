/**
 * The compute kernels behind mpt's tensors: static, allocation-free loops over array slices. They
 * depend on {@code dev.mpt.core.number} and the native-backend seam
 * {@code dev.mpt.core.kernel.backend} only, never on the tensor package.
 * {@link dev.mpt.core.kernel.Convert} converts FP32 to and from FP16/BF16 in bulk,
 * {@link dev.mpt.core.kernel.Gemm} multiplies matrices with FP32 accumulation (a right operand used
 * for many products packed once as a {@link dev.mpt.core.kernel.PackedB}),
 * {@link dev.mpt.core.kernel.BinaryKernel} runs the point-wise binary row loops of
 * {@link dev.mpt.core.kernel.BinaryOp}, {@link dev.mpt.core.kernel.ActivationKernel} evaluates
 * sigmoid and tanh over runs in FP32 arithmetic as {@link dev.mpt.core.kernel.FloatMath} defines
 * them (with derived error bounds), {@link dev.mpt.core.kernel.Parallel} runs independent
 * output blocks on the kernel threads with the grain sizes of {@link dev.mpt.core.kernel.Grain},
 * {@link dev.mpt.core.kernel.ThreadScratch} holds each thread's reusable buffers, and
 * {@link dev.mpt.core.kernel.Simd} chooses once between a kernel's plain loops (its specification,
 * always available) and its Panama Vector API implementation ({@code Vector*} classes, loaded by
 * name).
 *
 * <p>Public classes here validate their arguments; package-private ones compute. Results of the
 * Java kernels never depend on the number of threads or on which implementation runs; a native
 * backend that {@code Gemm} hands a product to keeps the error bound, not the bits.
 */
package dev.mpt.core.kernel;
