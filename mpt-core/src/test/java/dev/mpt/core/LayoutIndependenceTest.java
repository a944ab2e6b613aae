package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mpt.core.kernel.Parallel;
import dev.mpt.core.number.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every op gives bit-identical results for a non-contiguous view and its contiguous copy, and for
 * one kernel thread and several (each output element has one fixed summation order).
 */
class LayoutIndependenceTest {

    /** Ops on a 4-D NCHW input [n, 4, 6, 5]. */
    private static Map<String, UnaryOperator<Tensor>> ops(DType dt) {
        SplittableRandom rng = new SplittableRandom(21);
        Tensor w = Tensor.randn(rng, dt, 3, 4, 3, 3);
        Tensor wt = Tensor.randn(rng, dt, 4, 2, 2, 2);
        Tensor bias = Tensor.randn(rng, dt, 3);
        Tensor other = Tensor.randn(rng, dt, 5);
        Tensor idx = Tensor.of(new float[] {1, 0, 3, 3, 2}, 1, 1, 1, 5);
        Map<String, UnaryOperator<Tensor>> m = new LinkedHashMap<>();
        m.put("tanh", Tensor::tanh);
        m.put("gelu", Tensor::gelu);
        m.put("mul", t -> t.mul(other));
        m.put("add", t -> t.add(t));
        m.put("where", t -> Tensor.where(t.gt(Tensor.zeros(dt, 1)), t, t.neg()));
        m.put("sum", t -> t.sum(new int[] {0, 2}, false));
        m.put("mean", t -> t.mean(3, true));
        m.put("variance", t -> t.variance(new int[] {1, 3}, true, false));
        m.put("max", t -> t.max(new int[] {2}, false));
        m.put("argmax", t -> t.argmax(1, false));
        m.put("softmax", t -> t.softmax(2));
        m.put("logSoftmax", t -> t.logSoftmax(3));
        m.put("matmul", t -> t.matmul(t.transpose(2, 3)));
        m.put("conv2d", t -> t.conv2d(w, bias, Conv2dSpec.of(1, 1)));
        m.put("convTranspose2d", t -> t.convTranspose2d(wt, null, Conv2dSpec.of(2, 0).withGroups(2), 1));
        m.put("maxPool2d", t -> t.maxPool2d(2, 2, 0));
        m.put("avgPool2d", t -> t.avgPool2d(3, 1, 1));
        m.put("indexSelect", t -> t.indexSelect(2, 5, 0, 0));
        m.put("gather", t -> t.gather(3, idx));
        m.put("cat", t -> Tensor.cat(1, t, t));
        m.put("stack", t -> Tensor.stack(0, t, t));
        m.put("dropout", t -> t.dropout(0.5, new SplittableRandom(1)));
        m.put("to", t -> t.to(dt == DType.FP32 ? DType.FP16 : DType.FP32));
        m.put("reshape", t -> t.reshape(8, -1));
        return m;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void viewsAndCopiesGiveTheSameBits(DType dt) {
        // an NHWC buffer seen as NCHW: a permuted, non-contiguous view
        Tensor view = Tensor.randn(new SplittableRandom(8), dt, 2, 6, 5, 4).permute(0, 3, 1, 2);
        Tensor copy = view.contiguous();
        assertEquals(false, view.isContiguous());
        for (Map.Entry<String, UnaryOperator<Tensor>> e : ops(dt).entrySet()) {
            Tensor a = e.getValue().apply(view);
            Tensor b = e.getValue().apply(copy);
            assertArrayEquals(b.shape(), a.shape(), e.getKey());
            assertEquals(b.dtype(), a.dtype(), e.getKey());
            assertArrayEquals(b.toFloatArray(), a.toFloatArray(), e.getKey() + " " + dt);
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void resultsDoNotDependOnTheThreadCount(DType dt) {
        int before = Parallel.threads();
        try {
            // large enough that point-wise ops and reductions split into tasks
            Tensor big = Tensor.randn(new SplittableRandom(9), dt, 560, 4, 6, 5); // 67,200 elements > 2 * Grain.ELEMENTWISE
            Map<String, float[]> one = new LinkedHashMap<>();
            Parallel.setThreads(1);
            for (Map.Entry<String, UnaryOperator<Tensor>> e : ops(dt).entrySet()) {
                one.put(e.getKey(), e.getValue().apply(big).toFloatArray());
            }
            one.put("bigSum", big.sum(new int[] {0, 2}, false).toFloatArray());
            one.put("bigExp", big.exp().toFloatArray());
            Parallel.setThreads(3);
            for (Map.Entry<String, UnaryOperator<Tensor>> e : ops(dt).entrySet()) {
                assertArrayEquals(one.get(e.getKey()), e.getValue().apply(big).toFloatArray(), e.getKey());
            }
            assertArrayEquals(one.get("bigSum"), big.sum(new int[] {0, 2}, false).toFloatArray());
            assertArrayEquals(one.get("bigExp"), big.exp().toFloatArray());
        } finally {
            Parallel.setThreads(before);
        }
    }
}
