package dev.mpt.nn;

import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A building block of a model: a function of tensors with named parameters, buffers and child
 * modules.
 *
 * <p>A custom module registers its parts in the constructor and implements {@link #forward}:
 *
 * <pre>{@code
 * final class Residual extends Module {
 *     private final Linear a = module("a", new Linear(64, 64, rng));
 *     private final Linear b = module("b", new Linear(64, 64, rng));
 *     public Tensor forward(Tensor x) { return x.add(b.forward(a.forward(x).relu())); }
 * }
 * }</pre>
 *
 * <p>Names are dotted paths ({@code "layers.0.weight"}) in registration order. A module is in
 * training mode when created; {@link #eval()} switches dropout and normalization layers to
 * inference behaviour for it and all its children.
 */
public abstract class Module {

    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Buffer> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Computes this module's output for input {@code x}. */
    public abstract Tensor forward(Tensor x);

    /**
     * A stateless module computing {@code fn}, for glue inside a {@link Sequential}:
     * {@code Module.of(x -> x.reshape(-1, 64))}. See {@link Lambda}.
     */
    public static Module of(Function<Tensor, Tensor> fn) {
        return new Lambda("lambda", fn);
    }

    /** As {@link #of(Function)}, with a name shown by {@code toString}. */
    public static Module of(String name, Function<Tensor, Tensor> fn) {
        return new Lambda(name, fn);
    }

    // ---------------------------------------------------------------- registration

    /** Registers a trainable parameter initialised to {@code init}; returns its slot. */
    protected final Parameter parameter(String name, Tensor init) {
        return register(parameters, name, new Parameter(init, false));
    }

    /** Registers a trainable parameter that stays FP32 under {@link #to(DType)} (normalization). */
    protected final Parameter fp32Parameter(String name, Tensor init) {
        return register(parameters, name, new Parameter(init.to(DType.FP32), true));
    }

    /** Registers a non-trainable state tensor (kept FP32); returns its slot. */
    protected final Buffer buffer(String name, Tensor init) {
        return register(buffers, name, new Buffer(init.to(DType.FP32)));
    }

    /** Registers a child module; returns it. */
    protected final <M extends Module> M module(String name, M child) {
        Objects.requireNonNull(child, () -> "module '" + name + "'");
        if (child == this) {
            throw new IllegalArgumentException("module '" + name + "': a module cannot contain itself");
        }
        register(children, name, child);
        ((Module) child).setTraining(training);
        return child;
    }

    private <T> T register(Map<String, T> map, String name, T value) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("name must be non-empty and without '.', got '" + name + "'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("name '" + name + "' is already registered in " + getClass().getSimpleName());
        }
        map.put(name, value);
        return value;
    }

    // ---------------------------------------------------------------- traversal

    /** Every parameter of this module and its children, by dotted name, in registration order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out, null);
        return Collections.unmodifiableMap(out);
    }

    /** Every buffer of this module and its children, by dotted name. */
    public final Map<String, Buffer> namedBuffers() {
        Map<String, Buffer> out = new LinkedHashMap<>();
        collect("", null, out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Parameter> ps, Map<String, Buffer> bs) {
        if (ps != null) {
            parameters.forEach((n, p) -> ps.put(prefix + n, p));
        }
        if (bs != null) {
            buffers.forEach((n, b) -> bs.put(prefix + n, b));
        }
        children.forEach((n, c) -> c.collect(prefix + n + ".", ps, bs));
    }

    /** Every parameter, in the order of {@link #namedParameters()}. */
    public final List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** The direct children, by name. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** The number of trainable scalars. */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) {
            n += p.value().numel();
        }
        return n;
    }

    // ---------------------------------------------------------------- modes and precision

    /** Switches this module and its children to training behaviour; returns this. */
    public Module train() {
        setTraining(true);
        return this;
    }

    /** Switches this module and its children to inference behaviour; returns this. */
    public Module eval() {
        setTraining(false);
        return this;
    }

    private void setTraining(boolean on) {
        training = on;
        children.values().forEach(c -> c.setTraining(on));
    }

    /** Whether this module is in training mode. */
    public final boolean isTraining() {
        return training;
    }

    /**
     * Converts every parameter to {@code dtype} (rounded to nearest even), except parameters
     * registered with {@link #fp32Parameter} and all buffers, which stay FP32. Gradients are
     * cleared. Returns this.
     */
    public Module to(DType dtype) {
        Objects.requireNonNull(dtype, "to: dtype");
        for (Parameter p : namedParameters().values()) {
            if (!p.keepsFp32() && p.dtype() != dtype) {
                p.set(p.value().detach().to(dtype));
            }
            p.value().zeroGrad();
        }
        return this;
    }

    /** Clears the gradients of every parameter. */
    public final void zeroGrad() {
        for (Parameter p : namedParameters().values()) {
            p.value().zeroGrad();
        }
    }

    /** The class name and its direct children, one per line. */
    @Override
    public String toString() {
        if (children.isEmpty()) {
            return getClass().getSimpleName() + "()";
        }
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append("(\n");
        children.forEach((n, c) -> sb.append("  (").append(n).append("): ")
                .append(c.toString().replace("\n", "\n  ")).append('\n'));
        return sb.append(')').toString();
    }
}
