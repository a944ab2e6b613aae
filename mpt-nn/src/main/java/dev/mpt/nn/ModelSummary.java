package dev.mpt.nn;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A Keras-style table of a model: one row per layer with its output shape, parameter count and
 * parameter bytes, then the totals and the bytes by dtype ({@link ModelMemory}).
 *
 * <pre>{@code
 * System.out.println(model.summary(1, 1, 8, 8));      // a batch of one [1, 8, 8] sample
 * }</pre>
 *
 * <p>The output shapes come from one forward pass over zeros of the given input shape, in
 * evaluation mode without a graph (the model's mode is restored). Modules have no hooks, so the
 * layers of a {@link Sequential} (nested ones flattened) each get their output shape; the children
 * of any other module are listed with their parameters, and only the model's own output shape is
 * known for them ({@code shape} is null).
 *
 * @param rows       the layers, in order
 * @param inputShape the input shape the summary was computed for
 * @param output     the model's output shape
 * @param totalParameters the model's trainable scalars ({@link Module#parameterCount()})
 * @param memory     parameter and buffer bytes by dtype
 */
public record ModelSummary(List<Row> rows, int[] inputShape, int[] output, long totalParameters, ModelMemory memory) {

    /**
     * One layer.
     *
     * @param name       the dotted name of the layer in the model ({@code "3"}, {@code "block.conv"})
     * @param type       the layer's class name
     * @param shape      the layer's output shape, or null when not observable (see the class doc)
     * @param parameters the number of trainable scalars of the layer and its children
     * @param bytes      their bytes in their current dtypes
     */
    public record Row(String name, String type, int[] shape, long parameters, long bytes) {
        /** Copies the shape. */
        public Row {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            shape = shape == null ? null : shape.clone();
        }

        @Override
        public int[] shape() {
            return shape == null ? null : shape.clone();
        }
    }

    /** Copies the lists and arrays. */
    public ModelSummary {
        rows = List.copyOf(rows);
        inputShape = inputShape.clone();
        output = output.clone();
        Objects.requireNonNull(memory, "memory");
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public int[] output() {
        return output.clone();
    }

    /**
     * Summarizes {@code model} for inputs of {@code inputShape} (batch dimension first), fed in the
     * model's {@link Module#computeDtype()}.
     *
     * @throws IllegalArgumentException when the shape is empty or has a dimension below 1, or the model
     *                                  rejects it (the model's own message is the cause)
     */
    public static ModelSummary of(Module model, int... inputShape) {
        Objects.requireNonNull(model, "ModelSummary.of: model");
        Objects.requireNonNull(inputShape, "ModelSummary.of: inputShape");
        if (inputShape.length == 0 || Arrays.stream(inputShape).anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException("ModelSummary.of: inputShape must have dimensions >= 1 (batch first), got "
                    + Arrays.toString(inputShape));
        }
        DType dtype = model.computeDtype();
        boolean wasTraining = model.isTraining();
        model.eval();
        List<Row> rows = new ArrayList<>();
        Tensor x = Tensor.zeros(dtype, inputShape);
        try (NoGrad scope = NoGrad.enter()) {
            x = walk("", model, x, rows, true);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("ModelSummary.of: the model rejects inputs of shape "
                    + Arrays.toString(inputShape) + " (" + dtype + "): " + e.getMessage(), e);
        } finally {
            if (wasTraining) {
                model.train();
            }
        }
        return new ModelSummary(rows, inputShape, x.shape(), model.parameterCount(), ModelMemory.of(model));
    }

    /** Forwards {@code x} through {@code m}, adding rows; returns the output. */
    private static Tensor walk(String prefix, Module m, Tensor x, List<Row> rows, boolean root) {
        if (m instanceof Sequential s) {
            List<Module> layers = s.layers();
            for (int i = 0; i < layers.size(); i++) {
                x = walk(prefix.isEmpty() ? String.valueOf(i) : prefix + "." + i, layers.get(i), x, rows, false);
            }
            return x;
        }
        Tensor y = m.forward(x);
        if (root) {
            m.children().forEach((n, c) -> rows.add(row(n, c, null)));
            if (rows.isEmpty()) {
                rows.add(row("(model)", m, y.shape()));
            }
        } else {
            rows.add(row(prefix, m, y.shape()));
        }
        return y;
    }

    private static Row row(String name, Module m, int[] shape) {
        long n = 0;
        long bytes = 0;
        for (Parameter p : m.namedParameters().values()) {
            n += p.value().numel();
            bytes += (long) p.value().numel() * p.dtype().byteSize();
        }
        return new Row(name, m.getClass().getSimpleName(), shape, n, bytes);
    }

    /** The table, Keras style. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-14s %-16s %-20s %,12d %,14d%n";
        sb.append(String.format(Locale.ROOT, "%-14s %-16s %-20s %12s %14s%n", "layer", "type", "output shape",
                "parameters", "bytes"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.name(), r.type(),
                    r.shape == null ? "-" : Arrays.toString(r.shape), r.parameters(), r.bytes()));
        }
        sb.append(String.format(Locale.ROOT, "input %s, output %s%n", Arrays.toString(inputShape),
                Arrays.toString(output)));
        sb.append(String.format(Locale.ROOT, "total parameters %,d%n", totalParameters()));
        sb.append(memory);
        return sb.toString();
    }
}
