package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.Objects;
import java.util.function.Function;

/**
 * A stateless module from a function, for glue such as reshapes or residual sums inside a
 * {@link Sequential}: {@code Module.of("scale", x -> x.mul(0.5f))}. It has no parameters or
 * buffers; the function must not capture tensors that need training (use a {@link Module}
 * subclass for those).
 */
public final class Lambda extends Module {

    private final String name;
    private final Function<Tensor, Tensor> fn;

    /** A module named {@code name} (for {@code toString}) that computes {@code fn}. */
    public Lambda(String name, Function<Tensor, Tensor> fn) {
        this.name = Objects.requireNonNull(name, "Lambda: name");
        this.fn = Objects.requireNonNull(fn, "Lambda: fn");
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = fn.apply(LayerChecks.input("Lambda " + name, x));
        return Objects.requireNonNull(y, () -> "Lambda " + name + ": the function returned null");
    }

    @Override
    public String toString() {
        return "Lambda(" + name + ")";
    }
}
