package dev.mpt.optim.amp;

import dev.mpt.core.DType;
import dev.mpt.core.Tensor;
import dev.mpt.nn.Module;
import dev.mpt.nn.Parameter;
import dev.mpt.nn.Sequential;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Test-only building blocks (the real layers and losses live in mpt-nn): an affine layer over
 * {@link Tensor#matmul}, a ReLU, an MLP, and cross-entropy through log-softmax.
 */
final class TestModels {

    private TestModels() {
    }

    /** {@code y = x W + b}, W of shape [in, out], b of shape [out]. */
    static final class Affine extends Module {
        final Parameter weight;
        final Parameter bias;

        Affine(int in, int out, RandomGenerator rng) {
            float[] w = new float[in * out];
            double bound = 1 / Math.sqrt(in);
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            }
            weight = parameter("weight", Tensor.of(w, in, out));
            bias = parameter("bias", Tensor.zeros(out));
        }

        Affine(float[] w, int in, int out) {
            weight = parameter("weight", Tensor.of(w, in, out));
            bias = parameter("bias", Tensor.zeros(out));
        }

        @Override
        public Tensor forward(Tensor x) {
            return x.matmul(weight.value()).add(bias.value());
        }
    }

    /** max(x, 0). */
    static final class Relu extends Module {
        @Override
        public Tensor forward(Tensor x) {
            return x.relu();
        }
    }

    /** [n, ...] -> [n, product of the rest]. */
    static final class Flatten extends Module {
        @Override
        public Tensor forward(Tensor x) {
            return x.reshape(x.size(0), -1);
        }
    }

    /** flatten -> in -> hidden -> ReLU -> classes, weights drawn from {@code seed}. */
    static Sequential mlp(int in, int hidden, int classes, long seed) {
        var rng = new SplittableRandom(seed);
        return new Sequential(new Flatten(), new Affine(in, hidden, rng), new Relu(), new Affine(hidden, classes, rng));
    }

    /** Mean cross-entropy, {@code -mean_i logSoftmax(logits)[i, label_i]}, FP32. */
    static Tensor crossEntropy(Tensor logits, int[] labels) {
        int n = labels.length;
        int c = logits.size(1);
        float[] oneHot = new float[n * c];
        for (int i = 0; i < n; i++) {
            oneHot[i * c + labels[i]] = 1f;
        }
        return logits.logSoftmax(1).mul(Tensor.of(oneHot, n, c)).sum().mul(-1f / n);
    }

    /** Flattened inputs [n, featureSize] of a batch. */
    static Tensor inputs(Batch b) {
        return Tensor.of(b.features(), b.size(), b.featureSize());
    }

    /** A batch of {@code size} samples drawn with replacement from {@code data} using {@code rng}. */
    static Batch randomBatch(Dataset data, RandomGenerator rng, int size) {
        int[] idx = new int[size];
        for (int i = 0; i < size; i++) {
            idx[i] = rng.nextInt(data.size());
        }
        return data.subset(idx).batches(size).iterator().next();
    }

    /** A copy of a tensor's raw storage: bits for 16-bit tensors, float bits for FP32. */
    static int[] rawBits(Tensor t) {
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
}
