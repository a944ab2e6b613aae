package dev.mpt.nn;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;

/**
 * An identity layer that can capture the gradient of the loss with respect to the activation
 * passing through it. When armed, {@code forward(x)} returns {@code x + t} for a fresh zero leaf
 * {@code t} of {@code x}'s shape and dtype; after {@code backward()}, {@code t}'s gradient is the
 * activation gradient, in the activation's dtype (so an FP16 run shows what FP16 kept). Adding
 * zero is exact in every dtype (only a negative zero becomes positive), so an armed probe changes
 * neither the forward values nor the gradients.
 *
 * <p>Placed after each layer of a {@link Sequential}, probes give the per-layer activation
 * gradients that {@code dev.mpt.optim.amp.GradientStats} histograms (the paper's Figure 3):
 *
 * <pre>{@code
 * var probe = new GradientProbe();
 * var model = new Sequential(new Linear(64, 32, rng), probe, new Tanh(), ...);
 * probe.arm(true);
 * opt.scale(loss(model.forward(x))).backward();
 * GradientStats s = GradientStats.ofHalf(probe.gradient().shortData(), 0, n, opt.lossScale());
 * }</pre>
 */
public final class GradientProbe extends Module {

    private boolean armed;
    private Tensor tap;

    /** Captures the next forward pass's gradient (on) or passes activations through untouched (off). */
    public void arm(boolean on) {
        armed = on;
        tap = null;
    }

    /** The captured activation gradient (scaled by the loss scale used), or null. */
    public Tensor gradient() {
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
