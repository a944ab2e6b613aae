package dev.mpt.core;

import dev.mpt.core.kernel.BinaryKernel;
import dev.mpt.core.kernel.BinaryOp;
import dev.mpt.core.number.DType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode autograd: recording ops and walking the graph backward.
 *
 * <p>Gradients flow as FP32 tensors. When the gradient of a 16-bit non-leaf tensor is complete
 * (all its consumers summed in FP32) it is rounded once to that tensor's dtype before its op's
 * rule runs (the paper's FP16 backward pass: every activation gradient is an FP16 value, so tiny
 * ones underflow without loss scaling). A leaf's gradient is stored in the leaf's dtype: the
 * FP32 sum of this walk's contributions and the existing gradient, rounded once.
 */
final class Autograd {

    private Autograd() {
    }

    /**
     * Attaches {@code backward} to {@code out} when grad mode is on and an input requires grad.
     * Returns {@code out}.
     */
    static Tensor record(Tensor out, String op, Node.Backward backward, Tensor... inputs) {
        return record(out, op, false, backward, inputs);
    }

    /**
     * As {@link #record}, for a view op whose rule only re-strides its gradient and so takes a
     * dense gradient of any layout: the walk then passes, say, a transposed product to a transpose
     * without copying it into row-major order first.
     */
    static Tensor recordView(Tensor out, String op, Node.Backward backward, Tensor input) {
        return record(out, op, true, backward, input);
    }

    private static Tensor record(Tensor out, String op, boolean stridedGrad, Node.Backward backward,
                                 Tensor... inputs) {
        if (!NoGrad.isGradEnabled()) {
            return out;
        }
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad) {
                out.node = new Node(op, inputs, backward, stridedGrad);
                out.requiresGrad = true;
                return out;
            }
        }
        return out;
    }

    /** Whether the gradient of input {@code i} of the op that made {@code out} is needed. */
    static boolean needs(Tensor in) {
        return in != null && in.requiresGrad;
    }

    /**
     * The walk running on this thread: how many gradient contributions each tensor of its graph
     * receives (one per edge from a consumer that needs it), for {@link #soleGradientOfEmptyLeaf}.
     */
    private static final ThreadLocal<Map<Tensor, Integer>> EDGES = new ThreadLocal<>();

    /**
     * Whether a rule of the walk running on this thread may hand {@code t} its gradient already
     * rounded to its dtype, as a 16-bit tensor: {@code t} is an FP16 or BF16 leaf that requires
     * grad, has no gradient yet, and this is its only contribution in the walk. The walk would
     * otherwise store the one rounding to nearest even of that FP32 gradient, so a product written
     * straight into 16 bits gives the same bits without the FP32 tensor (a 16-bit C of
     * {@link dev.mpt.core.kernel.Gemm} is the rounding of its FP32 C under every backend).
     */
    static boolean soleGradientOfEmptyLeaf(Tensor t) {
        Map<Tensor, Integer> edges = EDGES.get();
        return edges != null && t.node == null && t.requiresGrad && t.grad == null && t.dtype.isHalfWidth()
                && edges.getOrDefault(t, 0) == 1;
    }

    /** Accumulated FP32 gradient; {@code owned} when its storage is private to the walk. */
    private static final class Acc {
        Tensor g;
        boolean owned;
    }

    static void backward(Tensor root, Tensor seed, boolean retainGraph) {
        if (!root.requiresGrad) {
            throw new IllegalStateException("backward: this tensor does not require grad; call requiresGrad(true) on a "
                    + "leaf it depends on before computing it (and outside a NoGrad scope)");
        }
        if (!Arrays.equals(seed.shape, root.shape)) {
            throw new IllegalArgumentException("backward: seed shape " + Arrays.toString(seed.shape)
                    + " differs from tensor shape " + Arrays.toString(root.shape));
        }
        if (root.node != null && root.node.released()) {
            throw released(root.node);
        }
        Map<Tensor, Integer> edges = new IdentityHashMap<>();
        List<Tensor> order = topologicalOrder(root, edges);
        Map<Tensor, Acc> grads = new IdentityHashMap<>();
        Map<Tensor, Integer> outer = EDGES.get();
        EDGES.set(edges);
        try (NoGrad _ = NoGrad.enter()) {
            accumulate(grads, root, Conversions.f32(seed), false);
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Acc acc = grads.remove(t);
                if (acc == null) {
                    continue;
                }
                Tensor g = acc.g;
                Node node = t.node;
                if (node == null) {
                    storeLeafGrad(t, g, acc.owned);
                    continue;
                }
                // a 16-bit gradient is rounded in place when owned, else into a private copy: owned either way
                boolean owned = acc.owned || t.dtype != DType.FP32;
                if (t.dtype != DType.FP32) {
                    g = acc.owned ? Conversions.roundInPlace(g, t.dtype) : Conversions.roundCopy(g, t.dtype);
                }
                if (node.released()) {
                    throw released(node);
                }
                Tensor[] inGrads = node.backward.apply(g, owned);
                Tensor[] inputs = node.inputs;
                for (int k = 0; k < inputs.length; k++) {
                    Tensor in = inputs[k];
                    if (needs(in) && inGrads[k] != null) {
                        if (!Arrays.equals(inGrads[k].shape, in.shape)) {
                            throw new IllegalStateException("backward of " + node.op + ": gradient shape "
                                    + Arrays.toString(inGrads[k].shape) + " for input " + k + " of shape "
                                    + Arrays.toString(in.shape));
                        }
                        accumulate(grads, in, inGrads[k], fresh(inGrads, k, g, owned));
                    }
                }
                if (owned) {
                    recycleIfDropped(g, inGrads);
                }
                if (!retainGraph) {
                    node.release();
                }
            }
        } finally {
            EDGES.set(outer);
        }
    }

    /**
     * Hands the storage of an owned incoming gradient to {@link GradientBuffers} once its rule has
     * run, unless a gradient the rule returned uses it (then it passes on with that gradient).
     */
    private static void recycleIfDropped(Tensor g, Tensor[] inGrads) {
        float[] s = g.floats;
        if (s == null || g.offset != 0 || s.length != g.numel) {
            return;
        }
        for (Tensor in : inGrads) {
            if (in != null && storage(in) == s) {
                return;
            }
        }
        GradientBuffers.recycle(s);
    }

    private static IllegalStateException released(Node node) {
        return new IllegalStateException("backward: the graph through '" + node.op + "' was already released by an "
                + "earlier backward; pass retainGraph=true to the first backward to walk it twice");
    }

    /**
     * Whether {@code grads[k]} has storage of its own: rules may return the incoming gradient or
     * views of it (see {@link Node.Backward}), possibly for several inputs, and those must not be
     * updated in place. The incoming gradient's storage passes on when the walk owned it (it is
     * dropped after the rule) and only this input's gradient uses it.
     */
    private static boolean fresh(Tensor[] grads, int k, Tensor incoming, boolean incomingOwned) {
        Object s = storage(grads[k]);
        if (s == storage(incoming) && !incomingOwned) {
            return false;
        }
        for (int j = 0; j < grads.length; j++) {
            if (j != k && grads[j] != null && storage(grads[j]) == s) {
                return false;
            }
        }
        return true;
    }

    private static Object storage(Tensor t) {
        return t.floats != null ? t.floats : t.shorts;
    }

    private static void accumulate(Map<Tensor, Acc> grads, Tensor t, Tensor g, boolean fresh) {
        Acc acc = grads.get(t);
        if (acc == null && g.dtype == t.dtype && soleGradientOfEmptyLeaf(t)) {
            acc = new Acc();        // already the leaf's rounded gradient: stored as it is
            acc.g = g;
            acc.owned = fresh;
            grads.put(t, acc);
            return;
        }
        Tensor g32 = Conversions.f32(g);
        if (acc == null) {
            acc = new Acc();
            if (g32.isContiguous() || (t.node != null && t.node.stridedGrad && Strided.isDense(g32.shape, g32.strides))) {
                acc.g = g32;
                acc.owned = fresh || g32 != g;
            } else {
                acc.g = g32.contiguous();
                acc.owned = true;
            }
            grads.put(t, acc);
            return;
        }
        if (acc.owned && acc.g.isContiguous()) {
            addInto(acc.g, g32);
        } else {
            acc.g = acc.g.add(g32);
            acc.owned = true;
        }
    }

    /** Stores or adds {@code g} into the leaf's gradient; an FP32 {@code g} the walk owns is adopted, not copied. */
    private static void storeLeafGrad(Tensor leaf, Tensor g, boolean owned) {
        if (!leaf.requiresGrad) {
            return;
        }
        if (leaf.grad == null && owned && leaf.dtype == DType.FP32 && g.dtype == DType.FP32 && g.isContiguous()
                && g.offset == 0 && g.floats.length == g.numel) {
            leaf.grad = g;
        } else if (leaf.grad == null && owned && g.dtype == leaf.dtype && g.dtype != DType.FP32 && g.isContiguous()
                && g.offset == 0 && g.shorts.length == g.numel) {
            leaf.grad = g;
        } else if (leaf.grad == null) {
            Tensor stored = Tensor.zeros(leaf.dtype, leaf.shape);
            stored.copy_(g);
            leaf.grad = stored;
        } else if (leaf.grad.dtype == DType.FP32 && leaf.grad.isContiguous()) {
            addInto(leaf.grad, g);
        } else {
            Tensor sum = leaf.grad.to(DType.FP32).add(g);
            leaf.grad.copy_(sum);
        }
    }

    /** {@code acc += g} for a contiguous FP32 {@code acc} and an FP32 {@code g} of equal shape. */
    private static void addInto(Tensor acc, Tensor g) {
        float[] a = acc.floats;
        float[] b = g.readFloats();
        // a[o + i] += b[i] through the point-wise kernel: C2 leaves the offset loop scalar
        BinaryKernel.INSTANCE.apply(BinaryOp.ADD, a, acc.offset, b, 0, a, acc.offset, acc.numel);
    }

    /**
     * Reverse post-order of the graph above {@code root} (root last), iterative; {@code edges}
     * receives, per tensor, the number of graph edges into it that need its gradient.
     */
    private static List<Tensor> topologicalOrder(Tensor root, Map<Tensor, Integer> edges) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Tensor> stack = new ArrayDeque<>();
        ArrayDeque<Integer> next = new ArrayDeque<>();
        stack.push(root);
        next.push(0);
        seen.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Tensor t = stack.peek();
            int i = next.pop();
            Tensor[] inputs = t.node == null || t.node.released() ? null : t.node.inputs;
            if (inputs != null && i < inputs.length) {
                next.push(i + 1);
                Tensor in = inputs[i];
                if (needs(in)) {
                    edges.merge(in, 1, Integer::sum);
                }
                if (needs(in) && seen.put(in, Boolean.TRUE) == null) {
                    stack.push(in);
                    next.push(0);
                }
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
