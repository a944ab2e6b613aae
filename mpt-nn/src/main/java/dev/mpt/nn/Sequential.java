package dev.mpt.nn;

import dev.mpt.core.Tensor;
import java.util.List;
import java.util.Objects;

/** Modules applied one after another; children are named {@code "0"}, {@code "1"}, .... */
public final class Sequential extends Module {

    private final Module[] layers;

    /** A pipeline of {@code layers}, applied in order. */
    public Sequential(Module... layers) {
        Objects.requireNonNull(layers, "layers");
        if (layers.length == 0) {
            throw new IllegalArgumentException("Sequential needs at least one layer");
        }
        this.layers = layers.clone();
        for (int i = 0; i < this.layers.length; i++) {
            module(Integer.toString(i), Objects.requireNonNull(this.layers[i], "layer " + i));
        }
    }

    /** The layers, in order. */
    public List<Module> layers() {
        return List.of(layers);
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Module m : layers) {
            y = m.forward(y);
        }
        return y;
    }
}
