package dev.mpt.core.kernel.backend;

/**
 * The seam between {@link dev.mpt.core.kernel.Gemm} and a native GEMM library. {@code Gemm}
 * validates its arguments, offers the product to the {@linkplain Backends#gemm() selected backend}
 * and runs its own Java kernels (the reference) when the backend declines.
 *
 * <p>Each method has {@code Gemm}'s contract ({@code C = op(A) op(B) + beta C}, row-major slices,
 * FP32 accumulation, an FP32 C) and receives arguments that
 * {@code Gemm} has already checked, and {@code threads}: how many threads it may use (mpt's kernel
 * thread count, or 1 when {@code Gemm} is called from a kernel thread, where the caller's loop is
 * already parallel). It returns {@code true} when it has written C, and
 * {@code false}, leaving C untouched, when it declines: a size it does not serve, a dtype it is not
 * routed, or a native failure (logged once). A backend never throws for a product the Java kernels
 * can compute. A backend writes FP32 only: {@code Gemm} rounds a 16-bit C from the FP32 product
 * itself, so a 16-bit result is the rounding of the FP32 one under every backend.
 */
public interface GemmBackend {

    /** The pure-Java kernels: declines every product, so {@code Gemm} computes them all. */
    GemmBackend JAVA = new GemmBackend() {
        @Override
        public String name() {
            return "java";
        }

        @Override
        public boolean sgemm(int threads, boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
            return false;
        }

        @Override
        public boolean gemm16(int threads, boolean bf16, boolean transA, boolean transB, int m, int n, int k, short[] a, int aOff,
                              int lda, short[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
            return false;
        }

        @Override
        public boolean computes16(boolean bf16) {
            return false;
        }

        @Override
        public String toString() {
            return name();
        }
    };

    /** Short name for logs and benchmarks: "java", "onednn". */
    String name();

    /** FP32 inputs and output; see {@link dev.mpt.core.kernel.Gemm#sgemm}. */
    boolean sgemm(int threads, boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                  float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc);

    /** BF16 ({@code bf16}) or FP16 inputs, FP32 output; see {@link dev.mpt.core.kernel.Gemm#gemm16}. */
    boolean gemm16(int threads, boolean bf16, boolean transA, boolean transB, int m, int n, int k, short[] a, int aOff, int lda,
                   short[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc);

    /**
     * Whether this backend computes products of BF16 ({@code bf16}) or FP16 inputs at all; when it
     * does not, {@code Gemm} skips preparing the FP32 buffer that a 16-bit C is rounded from.
     */
    boolean computes16(boolean bf16);
}
