package dev.mpt.optim.parallel;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.Buffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A replica's FP32 buffers (BatchNorm's running statistics) as one flat vector: copied at the start
 * of a step and put back when the step is skipped (as {@code AmpOptimizer} does), and replaced by
 * rank 0's after every step, so that all replicas hold the same buffers (PyTorch DDP's
 * {@code broadcast_buffers}). Each rank's forward folds only its own micro-batch into them; the
 * copy keeps rank 0's. Buffers are read through {@link Buffer#value()} each time, since a layer may
 * replace its buffer's tensor.
 */
final class ReplicaBuffers {

    private final List<Map.Entry<String, Buffer>> buffers;
    private final float[] flat;
    private final float[] saved;
    private final float[] received;
    private final Shards fromRankZero;

    /**
     * @throws IllegalArgumentException if a buffer is not FP32
     */
    ReplicaBuffers(Map<String, Buffer> buffers, int world) {
        this.buffers = List.copyOf(buffers.entrySet());
        int n = 0;
        for (var e : this.buffers) {
            Tensor v = e.getValue().value();
            if (v.dtype() != DType.FP32) {
                throw new IllegalArgumentException("DataParallelOptimizer: buffer '" + e.getKey() + "' is " + v.dtype()
                        + "; data-parallel training copies FP32 buffers only");
            }
            n += v.numel();
        }
        flat = new float[n];
        saved = new float[n];
        received = new float[n];
        int[] bounds = new int[world + 1];
        Arrays.fill(bounds, 1, world + 1, n);
        fromRankZero = new Shards(bounds);
    }

    /** Whether there is anything to copy. */
    boolean isEmpty() {
        return flat.length == 0;
    }

    /** Each buffer's shape, by name in order. */
    Map<String, int[]> shapes() {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (var e : buffers) {
            out.put(e.getKey(), e.getValue().value().shape());
        }
        return out;
    }

    /** The buffers' current values, flat, in order (a new array). */
    float[] values() {
        gather(flat);
        return flat.clone();
    }

    /** Copies every buffer's current values, for {@link #restore()}. */
    void save() {
        gather(saved);
    }

    /** Puts the values of the latest {@link #save()} back. */
    void restore() {
        scatter(saved);
    }

    /** Replaces every rank's buffers by rank 0's; every rank must call it. */
    void copyFromRankZero(Collective collective) {
        if (flat.length == 0) {
            return;
        }
        gather(flat);
        collective.allGather(flat, fromRankZero, received);
        scatter(received);
    }

    /** Writes {@code values} (as {@link #values()} returns them) into the buffers. */
    void set(float[] values) {
        scatter(values);
    }

    private void gather(float[] to) {
        int at = 0;
        for (var e : buffers) {
            Tensor v = e.getValue().value().contiguous();
            System.arraycopy(v.floatData(), v.storageOffset(), to, at, v.numel());
            at += v.numel();
        }
    }

    private void scatter(float[] from) {
        int at = 0;
        for (var e : buffers) {
            Tensor v = e.getValue().value();
            System.arraycopy(from, at, v.floatData(), v.storageOffset(), v.numel());
            at += v.numel();
        }
    }
}
