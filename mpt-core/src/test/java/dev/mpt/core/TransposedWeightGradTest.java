package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The gradient of {@code W} in {@code y = x @ W^T} (a linear layer): computed as a transposed view of
 * the row-major product {@code g^T x} and passed through the transpose without a copy, it is
 * row-major, bit-identical to the gradient of a row-major weight {@code V = W^T} (the product
 * {@code x^T g}, transposed), and within the derived error bound of a double reference.
 */
class TransposedWeightGradTest {

    private static final int M = 37;
    private static final int K = 29;
    private static final int N = 23;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16", "BF16"})
    void weightGradientOfTransposedViewIsRowMajorAndExact(DType dtype) {
        SplittableRandom rng = new SplittableRandom(21);
        Tensor x = random(rng, M, K).to(dtype);
        Tensor w = random(rng, N, K).to(dtype).requiresGrad(true);
        Tensor seed = random(rng, M, N);

        x.matmul(w.t()).backward(seed.to(dtype));
        Tensor gw = w.grad();
        assertTrue(gw.isContiguous(), "weight gradient must be row-major");

        // the same product with a row-major weight V = W^T: dV = x^T g, so dW = dV^T
        Tensor v = w.detach().t().contiguous().requiresGrad(true);
        x.matmul(v).backward(seed.to(dtype));
        Tensor gv = v.grad();

        float[] xs = x.to(DType.FP32).toFloatArray();
        float[] gs = seed.to(dtype).to(DType.FP32).toFloatArray();
        // gamma_M = M u / (1 - M u), u = 2^-24, for the FP32 sum of M products; then one rounding to
        // the leaf's dtype (relative 2^-24, 2^-11 or 2^-8) of a value within that bound
        double u = 0x1p-24;
        double gamma = M * u / (1 - M * u);
        double round = dtype == DType.FP32 ? 0 : dtype == DType.FP16 ? 0x1p-11 : 0x1p-8;
        for (int j = 0; j < N; j++) {
            for (int p = 0; p < K; p++) {
                assertEquals(Float.floatToRawIntBits(gv.get(p, j)), Float.floatToRawIntBits(gw.get(j, p)),
                        "dW[" + j + "][" + p + "] vs dV[" + p + "][" + j + "]");
                double ref = 0;
                double abs = 0;
                for (int i = 0; i < M; i++) {
                    double t = (double) gs[i * N + j] * xs[i * K + p];
                    ref += t;
                    abs += Math.abs(t);
                }
                double bound = gamma * abs + round * (Math.abs(ref) + gamma * abs) + Double.MIN_VALUE;
                assertTrue(Math.abs(gw.get(j, p) - ref) <= bound,
                        "dW[" + j + "][" + p + "] = " + gw.get(j, p) + ", reference " + ref + ", bound " + bound);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16"})
    void inputGradientThroughTransposedInputIsExact(DType dtype) {
        // y = X^T @ B with X a leaf of shape [K, M]: dX = (g B^T)^T, taken in X's stored layout
        SplittableRandom rng = new SplittableRandom(22);
        Tensor xs = random(rng, K, M).to(dtype).requiresGrad(true);
        Tensor b = random(rng, K, N).to(dtype);
        Tensor seed = random(rng, M, N).to(dtype);
        xs.t().matmul(b).backward(seed);
        Tensor rowMajor = xs.detach().t().contiguous().requiresGrad(true);
        rowMajor.matmul(b).backward(seed);
        assertTrue(xs.grad().isContiguous());
        for (int i = 0; i < M; i++) {
            for (int p = 0; p < K; p++) {
                assertEquals(Float.floatToRawIntBits(rowMajor.grad().get(i, p)),
                        Float.floatToRawIntBits(xs.grad().get(p, i)));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FP32", "FP16"})
    void weightGradientDoesNotDependOnTheThreadCount(DType dtype) {
        // 160 x 130 x 140 is above the GEMM's parallel threshold (128^3), so 3 threads split the work
        SplittableRandom rng = new SplittableRandom(23);
        Tensor x = random(rng, 160, 130).to(dtype);
        Tensor w = random(rng, 140, 130).to(dtype);
        Tensor seed = random(rng, 160, 140).to(dtype);
        int saved = dev.mpt.core.kernel.Parallel.threads();
        float[][] grads = new float[2][];
        try {
            int[] counts = {1, 3};
            for (int c = 0; c < 2; c++) {
                dev.mpt.core.kernel.Parallel.setThreads(counts[c]);
                Tensor leaf = w.detach().requiresGrad(true);
                x.matmul(leaf.t()).backward(seed);
                grads[c] = leaf.grad().to(DType.FP32).toFloatArray();
            }
        } finally {
            dev.mpt.core.kernel.Parallel.setThreads(saved);
        }
        for (int i = 0; i < grads[0].length; i++) {
            assertEquals(Float.floatToRawIntBits(grads[0][i]), Float.floatToRawIntBits(grads[1][i]), "element " + i);
        }
    }

    private static Tensor random(SplittableRandom rng, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return Tensor.of(v, rows, cols);
    }
}
