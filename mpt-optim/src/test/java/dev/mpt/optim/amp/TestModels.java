package dev.mpt.optim.amp;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.ReLU;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/** Models, batches and raw-bit snapshots shared by the amp and train tests. */
public final class TestModels {

    private TestModels() {
    }

    /** flatten -> in -> hidden -> ReLU -> classes, weights drawn from {@code seed}. */
    public static Sequential mlp(int in, int hidden, int classes, long seed) {
        var rng = new SplittableRandom(seed);
        return new Sequential(new Flatten(), new Linear(in, hidden, rng), new ReLU(), new Linear(hidden, classes, rng));
    }

    /** A batch of {@code size} samples drawn with replacement from {@code data} using {@code rng}. */
    public static Batch randomBatch(Dataset data, RandomGenerator rng, int size) {
        int[] idx = new int[size];
        for (int i = 0; i < size; i++) {
            idx[i] = rng.nextInt(data.size());
        }
        return data.subset(idx).batches(size).iterator().next();
    }

    /** A copy of a tensor's raw storage: bits for 16-bit tensors, float bits for FP32. */
    public static int[] rawBits(Tensor t) {
        int n = t.numel();
        int[] out = new int[n];
        int off = t.storageOffset();
        if (t.dtype() == DType.FP32) {
            for (int i = 0; i < n; i++) {
                out[i] = Float.floatToRawIntBits(t.floatData()[off + i]);
            }
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = t.shortData()[off + i];
            }
        }
        return out;
    }

    /** A {@code rows x cols} FP32 tensor of standard normal values drawn from {@code rng}. */
    public static Tensor gaussian(RandomGenerator rng, int rows, int cols) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        return Tensor.of(x, rows, cols);
    }

    /** {@code n} class indices in {@code [0, classes)} drawn from {@code rng}. */
    public static int[] labels(RandomGenerator rng, int n, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rng.nextInt(classes);
        }
        return y;
    }
}
