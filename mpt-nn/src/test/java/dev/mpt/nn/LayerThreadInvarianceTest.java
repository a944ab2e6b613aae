package dev.mpt.nn;

import dev.mpt.core.Conv2dSpec;
import dev.mpt.core.Pool2dSpec;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.core.testing.ThreadInvariance;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The thread-count promise for layers built from several ops, forward and backward (input and
 * every parameter gradient), on 1, 2, 3 and 7 threads in FP32, FP16 and BF16 through
 * {@link ThreadInvariance}. The ops themselves are covered one by one in mpt-core's
 * {@code ThreadCountInvarianceTest}; a fused layer kernel joins here with one line.
 *
 * <p>Parallel paths (read from the ops' splits): LayerNorm over the last dim of
 * {@code [64, 4096]} (the fused LayerNormOp) runs its forward and its backward over rows in
 * tasks of {@code 2^15 / 4096 = 8} rows: 8 chunks each; the LSTM (batch 16, hidden 256) multiplies {@code [16, 256] x [256, 1024]} at each
 * time step (volume {@code 2^22}, over the GEMM's parallel minimum {@code 128^3}), forward and
 * backward. Conv2d over 8 images runs {@code Parallel.forEach} over the images forward and over
 * 8 batch parts backward; pooling of 64 planes of {@code 63 x 64} splits them with grain
 * {@code 2^15 / 4032 = 8}: 8 chunks, forward and backward.
 */
class LayerThreadInvarianceTest {

    record Case(String name, LongFunction<Module> layer, int... inputShape) {
    }

    static final List<Case> CASES = List.of(
            new Case("LayerNorm", seed -> new LayerNorm(4096), 64, 4096),
            new Case("Lstm", seed -> new Lstm(256, 256, 1, true, SplitMix64.seeded(seed)), 16, 8, 256),
            new Case("Conv2d 3x5 s2x1 p1x2 d1x2", seed -> new Conv2d(8, 16, 3, 5,
                    Conv2dSpec.DEFAULT.withStride(2, 1).withPadding(1, 2).withDilation(1, 2), true,
                    SplitMix64.seeded(seed)), 8, 8, 16, 16),
            new Case("MaxPool2d 3x2 s2x1 ceil", seed -> new MaxPool2d(Pool2dSpec.of(3, 2).withStride(2, 1)
                    .withPadding(1, 0).withCeilMode(true)), 4, 16, 63, 64),
            new Case("AvgPool2d 3x2 ceil, padding not counted", seed -> new AvgPool2d(Pool2dSpec.of(3, 2)
                    .withStride(2, 2).withPadding(1, 1).withCeilMode(true).withCountIncludePad(false)), 4, 16, 63, 64));

    @TestFactory
    Stream<DynamicTest> sameBitsOnEveryThreadCount() {
        return CASES.stream().flatMap(c -> Stream.of(DType.FP32, DType.FP16, DType.BF16).map(dt ->
                DynamicTest.dynamicTest(c.name() + " " + dt, () -> ThreadInvariance.check(c.name(), dt, 41,
                        (dtype, seed, run) -> {
                            Module m = c.layer().apply(seed).to(dtype);
                            var rng = SplitMix64.seeded(seed + 1);
                            Tensor x = Tensor.randn(rng, dtype, c.inputShape()).requiresGrad(true);
                            Tensor y = run.parallel("forward", () -> m.forward(x));
                            Tensor g = Tensor.randn(rng, y.dtype(), y.shape());
                            run.parallel("backward", () -> y.backward(g));
                            run.bits("y", y);
                            run.bits("dx", x.grad());
                            for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
                                run.bits("d" + e.getKey(), e.getValue().grad());
                            }
                        }))));
    }
}
