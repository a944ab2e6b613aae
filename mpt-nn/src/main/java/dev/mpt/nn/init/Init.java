package dev.mpt.nn.init;

import dev.mpt.core.Tensor;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Weight initializers. Each returns a new FP32 tensor whose elements are drawn in double from a
 * caller-supplied {@link RandomGenerator} and rounded once to FP32, so the same seed gives the same
 * model; convert the model afterwards with {@code Module.to(DType)}.
 *
 * <p>Fans follow PyTorch: for a shape {@code [out, in, k...]}, {@code fanIn = in * prod(k)} and
 * {@code fanOut = out * prod(k)}; a 1-D shape {@code [n]} has {@code fanIn = fanOut = n}.
 * <ul>
 * <li>Kaiming (He et al. 2015), fan-in mode: {@code std = gain / sqrt(fanIn)}; the uniform form
 *     draws from {@code [-b, b]} with {@code b = gain * sqrt(3 / fanIn)} (same variance).
 * <li>Xavier (Glorot and Bengio 2010): {@code std = gain * sqrt(2 / (fanIn + fanOut))}; uniform
 *     bound {@code gain * sqrt(6 / (fanIn + fanOut))}.
 * </ul>
 * Gains: {@link #RELU_GAIN} {@code sqrt(2)}, {@link #TANH_GAIN} {@code 5/3}, {@link #LINEAR_GAIN}
 * 1, {@link #leakyReluGain(double)} {@code sqrt(2 / (1 + slope^2))}.
 */
public final class Init {

    /** Gain for layers followed by ReLU: {@code sqrt(2)}. */
    public static final double RELU_GAIN = Math.sqrt(2.0);
    /** Gain for linear layers and sigmoid: 1. */
    public static final double LINEAR_GAIN = 1.0;
    /** Gain for layers followed by tanh: {@code 5/3}. */
    public static final double TANH_GAIN = 5.0 / 3.0;

    private Init() {
    }

    /** Gain for a leaky ReLU with negative slope {@code slope}: {@code sqrt(2 / (1 + slope^2))}. */
    public static double leakyReluGain(double slope) {
        if (!Double.isFinite(slope)) {
            throw new IllegalArgumentException("Init.leakyReluGain: slope must be finite, got " + slope);
        }
        return Math.sqrt(2.0 / (1.0 + slope * slope));
    }

    /** {@code fanIn} of {@code shape} as described in the class doc. */
    public static int fanIn(int... shape) {
        checkShape("fanIn", shape);
        return shape.length == 1 ? shape[0] : shape[1] * receptive(shape);
    }

    /** {@code fanOut} of {@code shape} as described in the class doc. */
    public static int fanOut(int... shape) {
        checkShape("fanOut", shape);
        return shape.length == 1 ? shape[0] : shape[0] * receptive(shape);
    }

    private static int receptive(int[] shape) {
        int r = 1;
        for (int i = 2; i < shape.length; i++) {
            r *= shape[i];
        }
        return r;
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... shape) {
        return Tensor.zeros(shape);
    }

    /** A tensor of ones. */
    public static Tensor ones(int... shape) {
        return Tensor.ones(shape);
    }

    /** Elements uniform in {@code [lo, hi)}. */
    public static Tensor uniform(RandomGenerator rng, double lo, double hi, int... shape) {
        Objects.requireNonNull(rng, "Init.uniform: rng");
        if (!(Double.isFinite(lo) && Double.isFinite(hi) && lo <= hi)) {
            throw new IllegalArgumentException("Init.uniform: need finite lo <= hi, got lo=" + lo + ", hi=" + hi);
        }
        checkShape("uniform", shape);
        Tensor t = Tensor.zeros(shape);
        float[] v = t.floatData();
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
        return t;
    }

    /** Elements normal with {@code mean} and standard deviation {@code std}. */
    public static Tensor normal(RandomGenerator rng, double mean, double std, int... shape) {
        Objects.requireNonNull(rng, "Init.normal: rng");
        if (!(Double.isFinite(mean) && Double.isFinite(std) && std >= 0)) {
            throw new IllegalArgumentException("Init.normal: need finite mean and std >= 0, got mean=" + mean
                    + ", std=" + std);
        }
        checkShape("normal", shape);
        Tensor t = Tensor.zeros(shape);
        float[] v = t.floatData();
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * rng.nextGaussian());
        }
        return t;
    }

    /** Kaiming normal, fan-in mode: {@code N(0, (gain / sqrt(fanIn))^2)}. */
    public static Tensor kaimingNormal(RandomGenerator rng, double gain, int... shape) {
        checkGain("kaimingNormal", gain);
        return normal(rng, 0, gain / Math.sqrt(fanIn(shape)), shape);
    }

    /** Kaiming uniform, fan-in mode: {@code U(-b, b)}, {@code b = gain * sqrt(3 / fanIn)}. */
    public static Tensor kaimingUniform(RandomGenerator rng, double gain, int... shape) {
        checkGain("kaimingUniform", gain);
        double b = gain * Math.sqrt(3.0 / fanIn(shape));
        return uniform(rng, -b, b, shape);
    }

    /** Xavier normal: {@code N(0, gain^2 * 2 / (fanIn + fanOut))}. */
    public static Tensor xavierNormal(RandomGenerator rng, double gain, int... shape) {
        checkGain("xavierNormal", gain);
        return normal(rng, 0, gain * Math.sqrt(2.0 / ((double) fanIn(shape) + fanOut(shape))), shape);
    }

    /** Xavier uniform: {@code U(-b, b)}, {@code b = gain * sqrt(6 / (fanIn + fanOut))}. */
    public static Tensor xavierUniform(RandomGenerator rng, double gain, int... shape) {
        checkGain("xavierUniform", gain);
        double b = gain * Math.sqrt(6.0 / ((double) fanIn(shape) + fanOut(shape)));
        return uniform(rng, -b, b, shape);
    }

    private static void checkGain(String op, double gain) {
        if (!(Double.isFinite(gain) && gain >= 0)) {
            throw new IllegalArgumentException("Init." + op + ": gain must be finite and >= 0, got " + gain);
        }
    }

    private static void checkShape(String op, int[] shape) {
        Objects.requireNonNull(shape, () -> "Init." + op + ": shape");
        if (shape.length == 0) {
            throw new IllegalArgumentException("Init." + op + ": needs a shape with at least one dimension");
        }
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("Init." + op + ": dimensions must be >= 1, got "
                        + Arrays.toString(shape));
            }
        }
    }
}
