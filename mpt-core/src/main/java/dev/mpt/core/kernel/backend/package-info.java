/**
 * The seam between mpt's GEMM and native libraries. {@link dev.mpt.core.kernel.backend.GemmBackend}
 * is what {@link dev.mpt.core.kernel.Gemm} offers a product to (a backend computes it or declines),
 * {@link dev.mpt.core.kernel.backend.Backends} chooses one at start-up ({@code -Dmpt.backend}).
 * The oneDNN backend is {@code OneDnnGemm} (dispatch and staging copies) over {@code Dnnl}
 * (hand-written FFM bindings to oneDNN's C API), {@code MatmulPrimitives} (the primitive cache),
 * {@code Staging} (per-thread off-heap buffers) and {@code NativeLibraries} (extracting natives
 * from a jar and loading them by path).
 *
 * <p>The Java kernels stay the reference: every backend is held to the same error bound by the
 * same accuracy tests, and a backend that is absent or fails leaves them in charge.
 */
package dev.mpt.core.kernel.backend;
