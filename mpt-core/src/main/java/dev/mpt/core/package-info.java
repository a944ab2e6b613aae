/**
 * The tensor and its autograd: {@link dev.mpt.core.Tensor}, the FP32/FP16/BF16 n-dimensional array
 * with reverse-mode autograd, whose public methods validate and hand each op to one
 * package-private driver, one file per op family, with each op's gradient rule next to its
 * forward. Number formats live in {@code dev.mpt.core.number}, the compute kernels in
 * {@code dev.mpt.core.kernel}; this package depends on both, never the other way round.
 *
 * <p>Which file holds what:
 * <ul>
 * <li>{@code Tensor}: the public API, factories, storage ({@code floats} for FP32, {@code shorts}
 *     for FP16/BF16 bit patterns), element access, dtype conversion ({@code to}), printing;
 *     {@code Conv2dSpec}: a convolution's stride, padding, dilation and groups; {@code Pool2dSpec}:
 *     a pooling window, its strides, padding, dilation, ceil mode and divisor rule.
 * <li>The autograd engine: {@code Node} (one recorded op: inputs and backward rule),
 *     {@code Autograd} (recording, the iterative reverse topological walk, gradient
 *     accumulation and rounding), {@link dev.mpt.core.NoGrad} (scopes that record nothing),
 *     {@code GradientBuffers} (per-thread arrays of gradients the walk owned and dropped, which
 *     later rules take instead of allocating; never forward outputs or parameter gradients).
 * <li>Op drivers: {@code Pointwise} (unary, binary with broadcasting, {@code where}) with the op
 *     enums {@code Unary} (forward loops and gradient rules) and {@code Binary} (gradient rules;
 *     the row loops are the kernel's {@code BinaryOp}); {@code Reduce} (sum, mean, variance, max,
 *     argmax, softmax and log-softmax); {@code MatMul} (matmul, mm); {@code Views} (copy, reshape,
 *     permute, narrow, expand); {@code Index} (indexSelect, gather); {@code Concat} (cat, stack);
 *     {@code Pooling} (max and average 2-D pooling); {@code Convolution} (conv2d,
 *     convTranspose2d) with {@code Im2col} (its lowering); {@code BatchNormOp} (batch
 *     normalization); {@code DropoutOp} (inverted dropout); {@link dev.mpt.core.LstmOp} (one LSTM layer
 *     over a sequence as one fused op, public because layers call it directly) with
 *     {@code LstmSequence} (its forward and backward through time and the buffers they share);
 *     {@link dev.mpt.core.Attention} (scaled dot-product attention as one fused op with masks and
 *     dropout, public for the same reason) with {@code AttentionBlocks} (its blockwise forward with
 *     an online softmax and the recomputing backward).
 * <li>Helpers of the drivers: {@code Conversions} (dtype conversion of whole tensors and runs),
 *     {@code Checks} (shared argument checks), {@code Strided} (shape arithmetic, strided gather
 *     and scatter).
 * </ul>
 */
package dev.mpt.core;
