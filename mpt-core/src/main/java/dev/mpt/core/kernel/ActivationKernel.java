package dev.mpt.core.kernel;

/**
 * Sigmoid, tanh, the softmax's shifted exp and a dropout mask over runs of FP32 values, as {@link FloatMath} defines them: bit for bit the
 * same on the Vector API path ({@code VectorActivationKernel}) and on the scalar one (the
 * {@link FloatMath} functions a value at a time), so results never depend on the path.
 *
 * <p>Public only so the tensor ops can call it; it checks no arguments (bad ranges still throw
 * {@link ArrayIndexOutOfBoundsException}). {@code x} and {@code y} may be the same run.
 */
public interface ActivationKernel {

    /** The kernel of this JVM, chosen once by {@link Simd#select}. */
    ActivationKernel INSTANCE = Simd.select(ActivationKernel.class, "dev.mpt.core.kernel.VectorActivationKernel",
            ScalarActivationKernel::new);

    /** {@code y[yo+i] = FloatMath.sigmoid(x[xo+i])} for {@code i < n}. */
    void sigmoid(float[] x, int xo, float[] y, int yo, int n);

    /** {@code y[yo+i] = FloatMath.tanh(x[xo+i])} for {@code i < n}. */
    void tanh(float[] x, int xo, float[] y, int yo, int n);

    /**
     * {@code y[yo+i] = x[xo+i] == -inf ? 0 : FloatMath.exp(x[xo+i] - shift)} for {@code i < n}: the
     * unnormalized softmax weights of a run of scores whose masked entries are -inf (exactly 0 here,
     * where the clamped exp would give e^-87), the difference rounded to FP32 first. {@code shift} is
     * finite.
     */
    void expShifted(float[] x, int xo, float shift, float[] y, int yo, int n);

    /**
     * An inverted-dropout mask drawn from a counter-based hash: {@code z[zo+i] = keep} when
     * {@code dropoutHash(seed, index + i) >>> 11 >= threshold}, else 0, for {@code i < n}. With
     * {@code threshold = ceil(p 2^53)} an element is kept exactly when the uniform draw
     * {@code (hash >>> 11) 2^-53} is at least p.
     */
    void dropoutMask(long seed, long index, long threshold, float keep, float[] z, int zo, int n);

    /** SplitMix64's finalizer of {@code seed + (index + 1)} golden-ratio increments (Steele et al. 2014). */
    static long dropoutHash(long seed, long index) {
        long z = seed + (index + 1) * 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The plain loops: the specification of every other implementation. */
    final class ScalarActivationKernel implements ActivationKernel {

        @Override
        public void sigmoid(float[] x, int xo, float[] y, int yo, int n) {
            for (int i = 0; i < n; i++) {
                y[yo + i] = FloatMath.sigmoid(x[xo + i]);
            }
        }

        @Override
        public void tanh(float[] x, int xo, float[] y, int yo, int n) {
            for (int i = 0; i < n; i++) {
                y[yo + i] = FloatMath.tanh(x[xo + i]);
            }
        }

        @Override
        public void expShifted(float[] x, int xo, float shift, float[] y, int yo, int n) {
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                y[yo + i] = v == Float.NEGATIVE_INFINITY ? 0f : FloatMath.exp(v - shift);
            }
        }

        @Override
        public void dropoutMask(long seed, long index, long threshold, float keep, float[] z, int zo, int n) {
            for (int i = 0; i < n; i++) {
                z[zo + i] = (dropoutHash(seed, index + i) >>> 11) >= threshold ? keep : 0f;
            }
        }
    }
}
