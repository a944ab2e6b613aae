package dev.mpt.examples;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.nn.Module;

/**
 * An identity layer that can capture the gradient of the loss with respect to the activation
 * passing through it. When armed, {@code forward(x)} returns {@code x + t} for a fresh zero leaf
 * {@code t} of {@code x}'s shape and dtype; after {@code backward()}, {@code t}'s gradient is the
 * activation gradient, in the activation's dtype (so an FP16 run shows what FP16 kept). Adding
 * zero is exact in every dtype, so an armed probe changes neither the forward values nor the
 * gradients.
 */
final class GradientProbe extends Module {

    private boolean armed;
    private Tensor tap;

    /** Captures the next forward pass's gradient (on) or passes activations through untouched (off). */
    void arm(boolean on) {
        armed = on;
        tap = null;
    }

    /** The captured activation gradient (scaled by the loss scale used), or null. */
    Tensor gradient() {
        return tap == null ? null : tap.grad();
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!armed || !NoGrad.isGradEnabled()) {
            return x;
        }
        tap = Tensor.zeros(x.dtype(), x.shape()).requiresGrad(true);
        return x.add(tap);
    }

    @Override
    public String toString() {
        return "GradientProbe()";
    }
}
