package dev.mpt.nn;

import dev.mpt.core.number.DType;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The bytes a model's state takes, by dtype: {@code ModelMemory.of(model)} before and after
 * {@code model.to(DType.FP16)} shows the paper's halving of weight memory (normalization
 * parameters and buffers stay FP32). Gradients and activations are not counted.
 *
 * @param parameterBytes bytes of parameter elements per dtype (dtypes absent when zero); unmodifiable
 * @param bufferBytes    bytes of buffer elements per dtype; unmodifiable
 */
public record ModelMemory(Map<DType, Long> parameterBytes, Map<DType, Long> bufferBytes) {

    /** Copies both maps. */
    public ModelMemory {
        parameterBytes = Collections.unmodifiableMap(new EnumMap<>(copy(parameterBytes, "parameterBytes")));
        bufferBytes = Collections.unmodifiableMap(new EnumMap<>(copy(bufferBytes, "bufferBytes")));
    }

    private static Map<DType, Long> copy(Map<DType, Long> m, String name) {
        Objects.requireNonNull(m, name);
        Map<DType, Long> out = new EnumMap<>(DType.class);
        m.forEach((k, v) -> out.put(Objects.requireNonNull(k, name + " key"), Objects.requireNonNull(v, name + " value")));
        return out;
    }

    /** The current memory of {@code module}'s parameters and buffers. */
    public static ModelMemory of(Module module) {
        Objects.requireNonNull(module, "ModelMemory.of: module");
        Map<DType, Long> ps = new EnumMap<>(DType.class);
        module.namedParameters().values()
                .forEach(p -> ps.merge(p.dtype(), (long) p.value().numel() * p.dtype().byteSize(), Long::sum));
        Map<DType, Long> bs = new EnumMap<>(DType.class);
        module.namedBuffers().values()
                .forEach(b -> bs.merge(b.value().dtype(), (long) b.value().numel() * b.value().dtype().byteSize(), Long::sum));
        return new ModelMemory(ps, bs);
    }

    /** Parameter bytes of all dtypes. */
    public long parameterTotal() {
        return parameterBytes.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Parameter and buffer bytes of all dtypes. */
    public long total() {
        return parameterTotal() + bufferBytes.values().stream().mapToLong(Long::longValue).sum();
    }

    /** E.g. {@code parameters 1,060,864 B (FP16 1,060,352 B, FP32 512 B), buffers 256 B (FP32 256 B)}. */
    @Override
    public String toString() {
        return "parameters " + bytes(parameterTotal()) + " " + split(parameterBytes) + ", buffers "
                + bytes(total() - parameterTotal()) + " " + split(bufferBytes);
    }

    private static String split(Map<DType, Long> m) {
        StringBuilder sb = new StringBuilder("(");
        m.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(k).append(' ').append(bytes(v)));
        return sb.append(')').toString();
    }

    private static String bytes(long n) {
        return String.format(java.util.Locale.ROOT, "%,d B", n);
    }
}
