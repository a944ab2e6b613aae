package dev.mpt.core;

import dev.mpt.core.kernel.BinaryOp;

/**
 * Point-wise binary ops: each constant names its row kernel ({@link BinaryOp}, unit stride, FP32)
 * and, next to it, holds its gradient rule. The caller broadcasts, widens 16-bit inputs exactly
 * and rounds the FP32 result once to the output dtype; gradients of broadcast operands are reduced
 * by the caller.
 */
enum Binary {
    ADD(BinaryOp.ADD) {
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            return new Tensor[] {g, g};
        }
    },
    SUB(BinaryOp.SUB) {
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            return new Tensor[] {g, needB ? g.neg() : null};
        }
    },
    MUL(BinaryOp.MUL) {
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            return new Tensor[] {needA ? g.mul(b) : null, needB ? g.mul(a) : null};
        }
    },
    DIV(BinaryOp.DIV) {
        /** d(a/b) = g/b, -g a / b^2. */
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            Tensor gb = g.div(b);
            return new Tensor[] {gb, needB ? gb.mul(a).div(b).neg() : null};
        }
    },
    MAX(BinaryOp.MAX) {
        /** The gradient goes to a where a >= b, else to b. */
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            Tensor toA = a.ge(b);
            return new Tensor[] {g.mul(toA), needB ? g.mul(toA.neg().add(1f)) : null};
        }
    },
    MIN(BinaryOp.MIN) {
        /** The gradient goes to a where a <= b, else to b. */
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            Tensor toA = a.le(b);
            return new Tensor[] {g.mul(toA), needB ? g.mul(toA.neg().add(1f)) : null};
        }
    },
    GT(BinaryOp.GT),
    LT(BinaryOp.LT),
    GE(BinaryOp.GE),
    LE(BinaryOp.LE),
    EQ(BinaryOp.EQ),
    NE(BinaryOp.NE);

    /** The row kernel of the forward op. */
    final BinaryOp kernel;

    Binary(BinaryOp kernel) {
        this.kernel = kernel;
    }

    /** Whether the op has a gradient (comparisons do not). */
    boolean differentiable() {
        return ordinal() <= MIN.ordinal();
    }

    /**
     * Gradients of the op at the broadcast shape, FP32, from the FP32 output gradient {@code g} and
     * the FP32 operands; entries not needed may be null.
     */
    Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
        throw new UnsupportedOperationException(opName() + " is not differentiable");
    }

    /** Lower-case name for messages and graph printing. */
    String opName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
