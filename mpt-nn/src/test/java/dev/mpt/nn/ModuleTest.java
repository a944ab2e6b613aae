package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.GradCheck;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class ModuleTest {

    /** A custom module in a few lines: {@code y = x + W2 relu(W1 x)}. */
    static final class Residual extends Module {
        private final Linear a;
        private final Linear b;

        Residual(int width, RandomGenerator rng) {
            a = module("a", new Linear(width, width, rng));
            b = module("b", new Linear(width, width, rng));
        }

        @Override
        public Tensor forward(Tensor x) {
            return x.add(b.forward(a.forward(x).relu()));
        }
    }

    /** A module with a parameter, a kept-FP32 parameter and a buffer, for the slot rules. */
    static final class Slots extends Module {
        final Parameter p = parameter("p", Tensor.ones(2, 3));
        final Parameter q = fp32Parameter("q", Tensor.ones(3));
        final Buffer s = buffer("s", Tensor.zeros(3));

        @Override
        public Tensor forward(Tensor x) {
            return x;
        }
    }

    @Test
    void namesAreDottedPathsInRegistrationOrder() {
        var model = new Sequential(new Residual(4, new SplittableRandom(1)), new ReLU(), new Slots());
        assertEquals(List.of("0.a.weight", "0.a.bias", "0.b.weight", "0.b.bias", "2.p", "2.q"),
                List.copyOf(model.namedParameters().keySet()));
        assertEquals(List.of("2.s"), List.copyOf(model.namedBuffers().keySet()));
        assertEquals(2 * (16 + 4) + 6 + 3, model.parameterCount());
        assertEquals(3, model.children().size());
    }

    @Test
    void residualBlockGradientsMatchFiniteDifferences() {
        var block = new Residual(3, new SplittableRandom(2));
        Parameter w = block.namedParameters().get("a.weight");
        GradCheck.assertGradients(in -> {
            w.set(in[1]);
            return block.forward(in[0]);
        }, Tensor.randn(new SplittableRandom(3), DType.FP32, 2, 3), w.value().detach());
    }

    @Test
    void lambdaModulesComputeTheirFunction() {
        Module half = Module.of("half", x -> x.mul(0.5f));
        Tensor y = new Sequential(Module.of(x -> x.add(1f)), half).forward(Tensor.of(new float[] {1, 3}, 2));
        assertEquals(1f, y.get(0));
        assertEquals(2f, y.get(1));
        assertTrue(half.namedParameters().isEmpty());
        assertEquals("Lambda(half)", half.toString());
        assertThrows(NullPointerException.class, () -> Module.of(null));
        assertThrows(NullPointerException.class, () -> Module.of(x -> null).forward(Tensor.ones(1)));
    }

    @Test
    void toHalfConvertsPlainParametersOnly() {
        var m = new Slots();
        m.p.value().setGrad(Tensor.ones(2, 3));
        Tensor before = m.p.value();
        assertSame(m, m.to(DType.FP16));
        assertEquals(DType.FP16, m.p.dtype());
        assertEquals(DType.FP32, m.q.dtype());
        assertEquals(DType.FP32, m.s.value().dtype());
        assertTrue(m.p.value().requiresGrad());
        assertNull(m.p.grad());
        assertEquals(1f, m.p.value().get(1, 2));
        assertFalse(before == m.p.value());
        m.to(DType.FP32);
        assertEquals(DType.FP32, m.p.dtype());
    }

    @Test
    void trainAndEvalReachEveryChild() {
        var inner = new Dropout(0.5, new SplittableRandom(1));
        var model = new Sequential(new Sequential(inner), new ReLU());
        assertTrue(inner.isTraining());
        model.eval();
        assertFalse(inner.isTraining());
        model.train();
        assertTrue(inner.isTraining());
    }

    @Test
    void zeroGradClearsEveryParameter() {
        var model = new Sequential(new Linear(3, 2, 5L), new ReLU(), new Linear(2, 1, 6L));
        model.forward(Tensor.ones(4, 3)).sum().backward();
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() != null));
        model.zeroGrad();
        assertTrue(model.parameters().stream().allMatch(p -> p.grad() == null));
    }

    @Test
    void registrationRejectsBadNames() {
        assertThrows(IllegalArgumentException.class, () -> new Module() {
            final Parameter a = parameter("a.b", Tensor.ones(1));

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }
        });
        assertThrows(IllegalArgumentException.class, () -> new Module() {
            final Parameter a = parameter("a", Tensor.ones(1));
            final Buffer b = buffer("a", Tensor.ones(1));

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }
        });
        assertThrows(IllegalArgumentException.class, () -> new Module() {
            final Parameter a = parameter("", Tensor.ones(1));

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }
        });
    }

    @Test
    void slotsKeepTheirShape() {
        var m = new Slots();
        assertThrows(IllegalArgumentException.class, () -> m.p.set(Tensor.ones(3, 2)));
        assertThrows(IllegalArgumentException.class, () -> m.s.set(Tensor.ones(2)));
        assertThrows(NullPointerException.class, () -> m.p.set(null));
        m.s.set(Tensor.full(2f, 3));
        assertEquals(2f, m.s.value().get(0));
        assertFalse(m.s.value().requiresGrad());
    }

    @Test
    void sequentialValidates() {
        assertThrows(IllegalArgumentException.class, Sequential::new);
        assertThrows(NullPointerException.class, () -> new Sequential(new ReLU(), null));
        var s = new Sequential(new ReLU(), new Tanh());
        assertEquals(2, s.layers().size());
        assertTrue(s.toString().contains("(1): Tanh()"));
    }

    @Test
    void memoryReportCountsBytesByDtype() {
        var model = new Sequential(new Linear(64, 64, 1L), new LayerNorm(64), new BatchNorm1d(64), new Linear(64, 10, 2L));
        long linear = 64 * 64 + 64 + 64 * 10 + 10;
        long norm = 4 * 64;
        ModelMemory fp32 = ModelMemory.of(model);
        assertEquals(Map.of(DType.FP32, 4 * (linear + norm)), fp32.parameterBytes());
        assertEquals(Map.of(DType.FP32, 4L * 2 * 64), fp32.bufferBytes());
        ModelMemory fp16 = ModelMemory.of(model.to(DType.FP16));
        assertEquals(Map.of(DType.FP16, 2 * linear, DType.FP32, 4 * norm), fp16.parameterBytes());
        assertEquals(fp32.bufferBytes(), fp16.bufferBytes());
        assertEquals(2 * linear + 4 * norm + 4L * 2 * 64, fp16.total());
        assertTrue(fp16.toString().contains("FP16 " + String.format(java.util.Locale.ROOT, "%,d", 2 * linear) + " B"),
                fp16.toString());
    }
}
