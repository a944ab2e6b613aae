package dev.mpt.optim.amp;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.nn.Buffer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A copy of a model's buffers (BatchNorm's running statistics) taken at the start of a step, put
 * back when the step is skipped. A training-mode forward folds the batch into the running
 * statistics before anyone can know that the step's gradients will overflow (an input that is
 * finite in FP32 but infinite in FP16 writes inf/NaN there); a skipped step must leave them as
 * it leaves the weights. The copies are preallocated, so saving allocates nothing once the shapes
 * are known; restoring installs fresh tensors ({@link Buffer#set}), so a tensor handed out earlier
 * never changes under its holder.
 */
final class BufferSnapshot {

    private final List<Buffer> buffers;
    private final List<Tensor> saved;

    BufferSnapshot(Map<String, Buffer> buffers) {
        this.buffers = List.copyOf(buffers.values());
        this.saved = new ArrayList<>(this.buffers.size());
        for (Buffer b : this.buffers) {
            saved.add(null);
        }
        save();
    }

    /** Copies every buffer's current values. */
    void save() {
        try (NoGrad scope = NoGrad.enter()) {
            for (int i = 0; i < buffers.size(); i++) {
                Tensor v = buffers.get(i).value();
                Tensor s = saved.get(i);
                if (s == null || s.dtype() != v.dtype() || !Arrays.equals(s.shape(), v.shape())) {
                    s = Tensor.zeros(v.dtype(), v.shape());
                    saved.set(i, s);
                }
                s.copy_(v);
            }
        }
    }

    /** Puts the values of the latest {@link #save()} back into every buffer. */
    void restore() {
        try (NoGrad scope = NoGrad.enter()) {
            for (int i = 0; i < buffers.size(); i++) {
                Tensor s = saved.get(i);
                buffers.get(i).set(Tensor.zeros(s.dtype(), s.shape()).copy_(s));
            }
        }
    }
}
