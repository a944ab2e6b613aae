package dev.mpt.core;

/**
 * One recorded operation of the autograd graph: the inputs of the op and the rule that maps the
 * gradient of its output to the gradients of its inputs.
 */
final class Node {

    /** Gradient rule of one op: FP32 gradient of the output in, FP32 gradients of the inputs out. */
    @FunctionalInterface
    interface Backward {
        /**
         * Returns the gradients of the op's inputs, aligned with {@link Node#inputs}; an entry may
         * be null when that input needs no gradient. Each returned gradient has the shape of its
         * input and dtype FP32. {@code grad} is FP32 and has the output's shape; it is contiguous
         * unless the node was recorded with {@code stridedGrad}, then dense (see {@link
         * Strided#isDense}). A
         * returned gradient is either new storage or {@code grad} itself or a view of it (the walk
         * then treats it as shared); it never aliases a forward tensor.
         */
        Tensor[] apply(Tensor grad);

        /**
         * {@link #apply(Tensor)}, told whether the walk owns {@code grad}'s storage (private to the
         * walk and dropped after this rule), so that a rule made by {@link #reusing} may write its
         * input's gradient over it instead of allocating. Other rules ignore the flag.
         */
        default Tensor[] apply(Tensor grad, boolean gradOwned) {
            return apply(grad);
        }
    }

    /** A gradient rule that may overwrite an owned incoming gradient (see {@link Backward#apply(Tensor, boolean)}). */
    @FunctionalInterface
    interface ReusingBackward {
        Tensor[] apply(Tensor grad, boolean gradOwned);
    }

    /**
     * A {@link Backward} running {@code rule}, which may return {@code grad} itself, overwritten,
     * when it is owned; called without the flag (as any rule may be), it is told the storage is
     * not owned.
     */
    static Backward reusing(ReusingBackward rule) {
        return new Backward() {
            @Override
            public Tensor[] apply(Tensor grad) {
                return rule.apply(grad, false);
            }

            @Override
            public Tensor[] apply(Tensor grad, boolean gradOwned) {
                return rule.apply(grad, gradOwned);
            }
        };
    }

    final String op;
    /**
     * Whether the rule accepts a gradient of any dense strided layout (a permutation of a contiguous
     * block), not only a contiguous one: true for views whose rule only re-strides the gradient.
     */
    final boolean stridedGrad;
    Tensor[] inputs;
    Backward backward;

    Node(String op, Tensor[] inputs, Backward backward) {
        this(op, inputs, backward, false);
    }

    Node(String op, Tensor[] inputs, Backward backward, boolean stridedGrad) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
        this.stridedGrad = stridedGrad;
    }

    boolean released() {
        return backward == null;
    }

    void release() {
        inputs = null;
        backward = null;
    }
}
