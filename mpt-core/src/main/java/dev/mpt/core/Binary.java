package dev.mpt.core;

/**
 * Point-wise binary ops: each constant holds its row kernel (unit stride, FP32) and, next to it,
 * its gradient rule. The caller broadcasts, widens 16-bit inputs exactly and rounds the FP32
 * result once to the output dtype; gradients of broadcast operands are reduced by the caller.
 */
enum Binary {
    ADD {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] + b[bo + i];
            }
        }

        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            return new Tensor[] {g, g};
        }
    },
    SUB {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] - b[bo + i];
            }
        }

        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            return new Tensor[] {g, needB ? g.neg() : null};
        }
    },
    MUL {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] * b[bo + i];
            }
        }

        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            return new Tensor[] {needA ? g.mul(b) : null, needB ? g.mul(a) : null};
        }
    },
    DIV {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] / b[bo + i];
            }
        }

        /** d(a/b) = g/b, -g a / b^2. */
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            Tensor gb = g.div(b);
            return new Tensor[] {gb, needB ? gb.mul(a).div(b).neg() : null};
        }
    },
    MAX {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = Math.max(a[ao + i], b[bo + i]);
            }
        }

        /** The gradient goes to a where a >= b, else to b. */
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            Tensor toA = a.ge(b);
            return new Tensor[] {g.mul(toA), needB ? g.mul(toA.neg().add(1f)) : null};
        }
    },
    MIN {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = Math.min(a[ao + i], b[bo + i]);
            }
        }

        /** The gradient goes to a where a <= b, else to b. */
        @Override
        Tensor[] grads(Tensor g, Tensor a, Tensor b, boolean needA, boolean needB) {
            Tensor toA = a.le(b);
            return new Tensor[] {g.mul(toA), needB ? g.mul(toA.neg().add(1f)) : null};
        }
    },
    GT {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] > b[bo + i] ? 1f : 0f;
            }
        }
    },
    LT {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] < b[bo + i] ? 1f : 0f;
            }
        }
    },
    GE {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] >= b[bo + i] ? 1f : 0f;
            }
        }
    },
    LE {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] <= b[bo + i] ? 1f : 0f;
            }
        }
    },
    EQ {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] == b[bo + i] ? 1f : 0f;
            }
        }
    },
    NE {
        @Override
        void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] != b[bo + i] ? 1f : 0f;
            }
        }
    };

    /** {@code o[oo+i] = a[ao+i] op b[bo+i]} for {@code i < n}. */
    abstract void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n);

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
