package dev.mpt.examples;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.ModelMemory;
import dev.mpt.nn.Module;
import dev.mpt.nn.Sequential;
import dev.mpt.optim.amp.MasterWeights;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/** Bytes of weights, master copies and activations, by dtype, for the comparison tables. */
public final class Memory {

    private Memory() {
    }

    /** Bytes of {@code model}'s parameters by dtype (normalization parameters stay FP32). */
    public static Map<DType, Long> weights(Module model) {
        return ModelMemory.of(model).parameterBytes();
    }

    /** Bytes of the FP32 master copies {@code masters} holds (0 when it keeps none). */
    public static long masters(MasterWeights masters) {
        if (!masters.keepsMasters()) {
            return 0;
        }
        long n = 0;
        for (String name : masters.names()) {
            n += (long) masters.master(name).length * Float.BYTES;
        }
        return n;
    }

    /**
     * Bytes of the tensors one forward pass of {@code input} produces, by dtype: the model is run
     * layer by layer (descending into nested {@link Sequential}s) and each layer's output is
     * counted as {@code numel * byteSize}, except outputs that share their input's storage (views
     * such as a flatten). A module that is not a {@link Sequential} counts as one layer: only its
     * output is counted. Runs in eval mode without recording gradients, so normalization
     * statistics are untouched; the model's mode is restored.
     */
    @SuppressWarnings("try") // the NoGrad scope only needs to be open
    public static Map<DType, Long> activations(Module model, Tensor input) {
        boolean training = model.isTraining();
        model.eval();
        Map<DType, Long> bytes = new EnumMap<>(DType.class);
        try (NoGrad scope = NoGrad.enter()) {
            walk(model, input, bytes);
        } finally {
            if (training) {
                model.train();
            }
        }
        return bytes;
    }

    private static Tensor walk(Module m, Tensor x, Map<DType, Long> bytes) {
        if (m instanceof Sequential s) {
            Tensor y = x;
            for (Module layer : s.layers()) {
                y = walk(layer, y, bytes);
            }
            return y;
        }
        Tensor y = m.forward(x);
        if (!sharesStorage(x, y)) {
            bytes.merge(y.dtype(), (long) y.numel() * y.dtype().byteSize(), Long::sum);
        }
        return y;
    }

    private static boolean sharesStorage(Tensor a, Tensor b) {
        if (a.dtype() != b.dtype() || !a.isContiguous() || !b.isContiguous()) {
            return false;
        }
        return a.dtype() == DType.FP32 ? a.floatData() == b.floatData() : a.shortData() == b.shortData();
    }

    /** E.g. {@code FP16 2.00 MiB + FP32 4.0 KiB}; {@code -} when empty. */
    public static String format(Map<DType, Long> bytes) {
        if (bytes.isEmpty()) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        new EnumMap<>(bytes).forEach((d, n) -> sb.append(sb.isEmpty() ? "" : " + ").append(d).append(' ')
                .append(format(n)));
        return sb.toString();
    }

    /** Bytes in B, KiB or MiB with three significant digits. */
    public static String format(long n) {
        if (n < 1024) {
            return n + " B";
        }
        double k = n / 1024.0;
        return k < 1024 ? String.format(Locale.ROOT, "%.1f KiB", k) : String.format(Locale.ROOT, "%.2f MiB", k / 1024);
    }

    /** The total of a by-dtype map. */
    public static long total(Map<DType, Long> bytes) {
        return bytes.values().stream().mapToLong(Long::longValue).sum();
    }
}
