package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.kernel.Convert;
import dev.mpt.core.kernel.Grain;
import dev.mpt.core.number.DType;
import dev.mpt.core.random.SplitMix64;
import dev.mpt.core.testing.ThreadInvariance;
import dev.mpt.core.testing.ThreadInvariance.Body;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The README's promise "bit-identical for any thread count", for every op of {@link Tensor}, its
 * forward and its backward, and the bulk conversions: each case runs on 1, 2, 3 and 7 threads in
 * FP32, FP16 and BF16 through {@link ThreadInvariance}, which requires identical bits and that
 * every stage wrapped in {@code run.parallel} handed tasks to the pool on 2, 3 and 7 threads.
 *
 * <p><b>Adding a kernel:</b> add one line to {@link #CASES}. Wrap each stage that has a parallel
 * path in {@code run.parallel(...)} and size its input past the split: {@code Parallel.forRange(n,
 * grain)} makes {@code min(threads, n / grain)} chunks, so seven threads get seven chunks only when
 * {@code n >= 7 grain}; the harness fails a wrapped stage that never reached the pool.
 *
 * <p>Shapes, and why each takes the parallel path on 7 threads (read from the op's split):
 * <ul>
 * <li>point-wise unary and binary: {@code forRange(n, Grain.ELEMENTWISE = 2^15)} over
 *     {@code n = 2^18}: 8 chunks. Unary backward is one serial loop (not wrapped). The binary
 *     backward reduces the {@code [64, 1]} operand's gradient with {@code Reduce.sumTo} (below).
 * <li>reductions and softmax along dim 1 of {@code [64, 4096]}: {@code runOuter} splits the 64
 *     rows with grain {@code 2^15 / 4096 = 8}: 8 chunks. Reductions over a leading dim
 *     (outer = 1), {@code max}, {@code argmax} and softmax's backward are serial loops.
 * <li>max and average pooling of {@code [4, 16, 64, 64]} and {@code [4, 16, 63, 64]}:
 *     {@code forPlanes} splits 64 planes with grain {@code 2^15 / 4096 = 8} (or {@code 2^15 / 4032
 *     = 8}): 8 chunks, forward and backward.
 * <li>batch norm of {@code [8, 32, 32, 32]}: {@code forChannels} splits 32 channels with grain
 *     {@code 2^15 / (8 * 1024) = 4}: 8 chunks; of {@code [4096, 64]}: grain {@code 2^15 / 4096 =
 *     8}: 8 chunks; forward and backward.
 * <li>convolutions: {@code Parallel.forEach} over the 8 images (forward) and over
 *     {@code min(8, WEIGHT_GRAD_PARTS = 8)} batch parts (backward): 8 tasks.
 * <li>matmul {@code [256, 192] x [192, 160]} and its two backward products: volume about
 *     {@code 7.9e6 >= PARALLEL_MIN_VOLUME = 128^3}, so the blocked GEMM splits {@code ceil(256 /
 *     mr) >= 16} row slivers into {@code 2 threads} row tasks; the same for {@link Tensor#linear}
 *     (the bias added in the GEMM's store).
 * <li>{@link LstmOp} over {@code [T = 3, B = 64, in = 24]}, {@code H = 32}: each step's gate loop
 *     (forward) and gate-gradient loop (backward) is {@code forRange(B, LstmSequence.ROWS_PER_TASK =
 *     8)}: 8 chunks; its GEMMs ({@code [192, 24] x [24, 128]} and smaller) stay below
 *     {@code PARALLEL_MIN_VOLUME} and run on the calling thread.
 * <li>conversions: {@code forRange(n, Grain.CONVERT = 2^18)} over {@code n = 2^21}: 8 chunks.
 * </ul>
 */
class ThreadCountInvarianceTest {

    /** Elements of a point-wise case: 8 grains of {@link Grain#ELEMENTWISE}. */
    static final int N = 8 * Grain.ELEMENTWISE;
    /** Elements of a conversion case: 8 grains of {@link Grain#CONVERT}. */
    static final int CONVERT_N = 8 * Grain.CONVERT;

    /** A named computation, run in each of {@code dtypes}. */
    record Case(String name, List<DType> dtypes, Body body) {
        Case(String name, Body body) {
            this(name, DTYPES, body);
        }
    }

    static final List<DType> DTYPES = List.of(DType.FP32, DType.FP16, DType.BF16);

    static final List<Case> CASES = new ArrayList<>();

    static {
        // point-wise unary: forward parallel, backward one loop
        unary("neg", Tensor::neg);
        unary("exp", x -> x.mul(0.25f).exp());
        unary("log", x -> x.abs().add(0.5f).log());
        unary("log1p", x -> x.abs().log1p());
        unary("sqrt", x -> x.abs().add(0.25f).sqrt());
        unary("pow", x -> x.abs().pow(1.5f));
        unary("abs", Tensor::abs);
        unary("relu", Tensor::relu);
        unary("leakyRelu", x -> x.leakyRelu(0.1f));
        unary("sigmoid", Tensor::sigmoid);
        unary("tanh", Tensor::tanh);
        unary("gelu", Tensor::gelu);
        unary("clamp", x -> x.clamp(-1f, 0.5f));
        unary("scalar add/sub/mul/div", x -> x.add(0.5f).sub(0.25f).mul(3f).div(7f));
        // point-wise binary, b broadcast along dim 1 so its gradient is a parallel row sum
        binary("add", Tensor::add);
        binary("sub", Tensor::sub);
        binary("mul", Tensor::mul);
        binary("div", (a, b) -> a.div(b.abs().add(0.5f)));
        binary("maximum", Tensor::maximum);
        binary("minimum", Tensor::minimum);
        // reductions along dim 1 of [64, 4096]: forward parallel over rows
        rows("sum(dim)", x -> x.sum(1), true);
        rows("mean(dim)", x -> x.mean(1, true), true);
        rows("variance(dim)", x -> x.variance(new int[] {1}, true, false), true);
        rows("softmax", x -> x.softmax(1), false);
        rows("logSoftmax", x -> x.logSoftmax(1), false);
        rows("max(dim)", x -> x.max(1, false).to(DType.FP32), false);
        rows("sum(dim 0), serial", x -> x.sum(0), false);
        rows("sum(), serial", Tensor::sum, false);
        CASES.add(new Case("argmax", (dt, seed, run) ->
                run.bits("argmax", Tensor.randn(SplitMix64.seeded(seed), dt, 64, 4096).argmax(1, false))));
        // pooling
        CASES.add(new Case("maxPool2d 2x2", (dt, seed, run) -> forwardBackward(run, dt, seed,
                x -> x.maxPool2d(2, 2, 0), true, true, 4, 16, 64, 64)));
        CASES.add(new Case("maxPool2d 3x3 s2 p1", (dt, seed, run) -> forwardBackward(run, dt, seed,
                x -> x.maxPool2d(3, 2, 1), true, true, 4, 16, 64, 64)));
        CASES.add(new Case("maxPool2d 3x2 s2x1 p1x0 d1x2 ceil", (dt, seed, run) -> forwardBackward(run, dt, seed,
                x -> x.maxPool2d(Pool2dSpec.of(3, 2).withStride(2, 1).withPadding(1, 0).withDilation(1, 2)
                        .withCeilMode(true)), true, true, 4, 16, 63, 64)));
        CASES.add(new Case("avgPool2d", (dt, seed, run) -> forwardBackward(run, dt, seed,
                x -> x.avgPool2d(3, 2, 1), true, true, 4, 16, 64, 64)));
        CASES.add(new Case("avgPool2d 3x2 s2x2 p1x1 ceil, padding not counted", (dt, seed, run) ->
                forwardBackward(run, dt, seed, x -> x.avgPool2d(Pool2dSpec.of(3, 2).withStride(2, 2)
                        .withPadding(1, 1).withCeilMode(true).withCountIncludePad(false)), true, true, 4, 16, 63, 64)));
        // batch norm: channels in parallel, forward and backward
        CASES.add(new Case("batchNorm 4-D", (dt, seed, run) -> batchNorm(run, dt, seed, 8, 32, 32, 32)));
        CASES.add(new Case("batchNorm 2-D", (dt, seed, run) -> batchNorm(run, dt, seed, 4096, 64)));
        // GEMM and convolutions
        CASES.add(new Case("matmul", ThreadCountInvarianceTest::matmul));
        CASES.add(new Case("linear", ThreadCountInvarianceTest::linear));
        CASES.add(new Case("conv2d", (dt, seed, run) -> conv(run, dt, seed, false)));
        CASES.add(new Case("convTranspose2d", (dt, seed, run) -> conv(run, dt, seed, true)));
        // the fused LSTM layer: gate loops over batch rows, forward and backward
        CASES.add(new Case("LstmOp", ThreadCountInvarianceTest::lstm));
        // data movement (serial loops, held to the promise all the same)
        CASES.add(new Case("cat/indexSelect/dropout, serial", (dt, seed, run) -> forwardBackward(run, dt, seed,
                x -> Tensor.cat(1, x, x.indexSelect(1, 3, 1, 4)).dropout(0.25, SplitMix64.seeded(seed + 1)),
                false, false, 64, 4096)));
        // conversions: Convert's parallel bulk loops, and Tensor.to through them
        CASES.add(new Case("Convert", List.of(DType.FP16, DType.BF16), ThreadCountInvarianceTest::convert));
    }

    @TestFactory
    Stream<DynamicTest> sameBitsOnEveryThreadCount() {
        return CASES.stream().flatMap(c -> c.dtypes().stream().map(dt -> DynamicTest.dynamicTest(c.name() + " " + dt,
                () -> ThreadInvariance.check(c.name(), dt, 17, c.body()))));
    }

    /** The harness itself fails a stage that stays serial on several threads. */
    @Test
    void harnessRejectsAStageThatNeverForks() {
        AssertionError e = assertThrows(AssertionError.class, () ->
                ThreadInvariance.check("tiny relu", DType.FP32, 1, (dt, seed, run) ->
                        run.bits("y", run.parallel("forward", () -> Tensor.randn(SplitMix64.seeded(seed), dt, 64)
                                .relu()))));
        assertTrue(e.getMessage().contains("never reached the thread pool"), e.getMessage());
    }

    // ---------------------------------------------------------------- case builders

    private static void unary(String name, UnaryOperator<Tensor> f) {
        CASES.add(new Case(name, (dt, seed, run) -> forwardBackward(run, dt, seed, f, true, false, N)));
    }

    private static void binary(String name, BinaryOperator<Tensor> f) {
        CASES.add(new Case(name, (dt, seed, run) -> {
            var rng = SplitMix64.seeded(seed);
            Tensor a = Tensor.randn(rng, dt, 64, N / 64).requiresGrad(true);
            Tensor b = Tensor.randn(rng, dt, 64, 1).requiresGrad(true);
            Tensor y = run.parallel("forward", () -> f.apply(a, b));
            Tensor seedGrad = Tensor.randn(rng, y.dtype(), y.shape());
            run.parallel("backward", () -> y.backward(seedGrad));
            run.bits("y", y);
            run.bits("da", a.grad());
            run.bits("db", b.grad());
        }));
    }

    private static void rows(String name, UnaryOperator<Tensor> f, boolean parallelForward) {
        CASES.add(new Case(name, (dt, seed, run) ->
                forwardBackward(run, dt, seed, f, parallelForward, false, 64, N / 64)));
    }

    /** {@code y = f(x)} for a random x of {@code shape}, then backward with a random seed gradient. */
    private static void forwardBackward(ThreadInvariance.Run run, DType dt, long seed, UnaryOperator<Tensor> f,
                                        boolean parallelForward, boolean parallelBackward, int... shape) {
        var rng = SplitMix64.seeded(seed);
        Tensor x = Tensor.randn(rng, dt, shape).requiresGrad(true);
        Tensor y = parallelForward ? run.parallel("forward", () -> f.apply(x)) : f.apply(x);
        Tensor g = Tensor.randn(rng, y.dtype(), y.shape());
        if (parallelBackward) {
            run.parallel("backward", () -> y.backward(g));
        } else {
            y.backward(g);
        }
        run.bits("y", y);
        run.bits("dx", x.grad());
    }

    private static void batchNorm(ThreadInvariance.Run run, DType dt, long seed, int... shape) {
        var rng = SplitMix64.seeded(seed);
        int c = shape[1];
        Tensor x = Tensor.randn(rng, dt, shape).mul(3f).add(1f).detach().requiresGrad(true);
        Tensor w = Tensor.randn(rng, DType.FP32, c).requiresGrad(true);
        Tensor b = Tensor.randn(rng, DType.FP32, c).requiresGrad(true);
        Tensor mean = Tensor.zeros(c);
        Tensor var = Tensor.ones(c);
        Tensor y = run.parallel("forward", () -> x.batchNorm(mean, var, w, b, true, 0.1, 1e-5));
        Tensor g = Tensor.randn(rng, y.dtype(), y.shape());
        run.parallel("backward", () -> y.backward(g));
        run.bits("y", y);
        run.bits("runningMean", mean);
        run.bits("runningVar", var);
        run.bits("dx", x.grad());
        run.bits("dweight", w.grad());
        run.bits("dbias", b.grad());
    }

    private static void matmul(DType dt, long seed, ThreadInvariance.Run run) {
        var rng = SplitMix64.seeded(seed);
        Tensor a = Tensor.randn(rng, dt, 256, 192).requiresGrad(true);
        Tensor b = Tensor.randn(rng, dt, 160, 192).requiresGrad(true);
        Tensor y = run.parallel("forward", () -> a.matmul(b.t())); // b read transposed, as Linear does
        Tensor g = Tensor.randn(rng, y.dtype(), y.shape());
        run.parallel("backward", () -> y.backward(g));
        run.bits("y", y);
        run.bits("da", a.grad());
        run.bits("db", b.grad());
    }

    private static void linear(DType dt, long seed, ThreadInvariance.Run run) {
        var rng = SplitMix64.seeded(seed);
        Tensor x = Tensor.randn(rng, dt, 256, 192).requiresGrad(true);
        Tensor w = Tensor.randn(rng, dt, 160, 192).requiresGrad(true);
        Tensor b = Tensor.randn(rng, dt, 160).requiresGrad(true);
        Tensor y = run.parallel("forward", () -> x.linear(w, b));
        Tensor g = Tensor.randn(rng, y.dtype(), y.shape());
        run.parallel("backward", () -> y.backward(g));
        run.bits("y", y);
        run.bits("dx", x.grad());
        run.bits("dw", w.grad());
        run.bits("db", b.grad());
    }

    private static void conv(ThreadInvariance.Run run, DType dt, long seed, boolean transposed) {
        var rng = SplitMix64.seeded(seed);
        Tensor x = Tensor.randn(rng, dt, 8, 8, 16, 16).requiresGrad(true);
        Tensor w = Tensor.randn(rng, dt, transposed ? 8 : 16, transposed ? 16 : 8, 3, 3).mul(0.3f).detach()
                .requiresGrad(true);
        Tensor b = Tensor.randn(rng, dt, 16).requiresGrad(true);
        Tensor y = run.parallel("forward", () -> transposed
                ? x.convTranspose2d(w, b, Conv2dSpec.of(2, 1), 1)
                : x.conv2d(w, b, Conv2dSpec.of(1, 1)));
        Tensor g = Tensor.randn(rng, y.dtype(), y.shape());
        run.parallel("backward", () -> y.backward(g));
        run.bits("y", y);
        run.bits("dx", x.grad());
        run.bits("dw", w.grad());
        run.bits("db", b.grad());
    }

    private static void lstm(DType dt, long seed, ThreadInvariance.Run run) {
        var rng = SplitMix64.seeded(seed);
        int t = 3;
        int b = 8 * LstmSequence.ROWS_PER_TASK;
        int in = 24;
        int h = 32;
        Tensor x = Tensor.randn(rng, dt, t, b, in).requiresGrad(true);
        Tensor h0 = Tensor.randn(rng, dt, b, h).mul(0.5f).detach().requiresGrad(true);
        Tensor c0 = Tensor.randn(rng, DType.FP32, b, h).requiresGrad(true);
        Tensor wIh = Tensor.randn(rng, dt, 4 * h, in).mul(0.2f).detach().requiresGrad(true);
        Tensor wHh = Tensor.randn(rng, dt, 4 * h, h).mul(0.2f).detach().requiresGrad(true);
        Tensor bIh = Tensor.randn(rng, dt, 4 * h).mul(0.1f).detach().requiresGrad(true);
        Tensor bHh = Tensor.randn(rng, dt, 4 * h).mul(0.1f).detach().requiresGrad(true);
        LstmOp.Result r = run.parallel("forward", () -> LstmOp.forward(x, h0, c0, wIh, wHh, bIh, bHh));
        Tensor gOut = Tensor.randn(rng, r.output().dtype(), r.output().shape());
        Tensor gCell = Tensor.randn(rng, DType.FP32, b, h);
        // both outputs feed the loss, so the backward runs through time from the output and the last cell
        Tensor loss = r.output().to(DType.FP32).mul(gOut.to(DType.FP32)).sum().add(r.lastCell().mul(gCell).sum());
        run.parallel("backward", () -> loss.backward());
        run.bits("output", r.output());
        run.bits("lastCell", r.lastCell());
        run.bits("dx", x.grad());
        run.bits("dh0", h0.grad());
        run.bits("dc0", c0.grad());
        run.bits("dwIh", wIh.grad());
        run.bits("dwHh", wHh.grad());
        run.bits("dbIh", bIh.grad());
        run.bits("dbHh", bHh.grad());
    }

    private static void convert(DType dt, long seed, ThreadInvariance.Run run) {
        var rng = SplitMix64.seeded(seed);
        float[] f = new float[CONVERT_N];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (rng.nextGaussian() * Math.scalb(1.0, rng.nextInt(-30, 20)));
        }
        short[] h = new short[f.length];
        float[] back = new float[f.length];
        run.parallel("to 16 bits", () -> {
            if (dt == DType.BF16) {
                Convert.floatToBFloat16(f, 0, h, 0, f.length);
            } else {
                Convert.floatToHalf(f, 0, h, 0, f.length);
            }
        });
        run.parallel("to FP32", () -> {
            if (dt == DType.BF16) {
                Convert.bfloat16ToFloat(h, 0, back, 0, h.length);
            } else {
                Convert.halfToFloat(h, 0, back, 0, h.length);
            }
        });
        float[] rounded = f.clone();
        run.parallel("roundToHalf", () -> Convert.roundToHalf(rounded, 0, rounded.length));
        Tensor t = Tensor.of(f, CONVERT_N);
        Tensor converted = run.parallel("Tensor.to", () -> t.to(dt).to(DType.FP32));
        run.bits("narrowed", h);
        run.bits("widened", back);
        run.bits("roundToHalf", rounded);
        run.bits("Tensor.to", converted);
    }
}
