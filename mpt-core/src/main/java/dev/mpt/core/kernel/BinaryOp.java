package dev.mpt.core.kernel;

/**
 * The point-wise binary row kernels over FP32 rows: {@code o[oo+i] = a[ao+i] op b[bo+i]} for
 * {@code i < n}, each operation IEEE-rounded once as Java computes it (MAX and MIN as
 * {@link Math#max(float, float)} and {@link Math#min(float, float)}; comparisons give 1 or 0). The
 * plain loops here are the specification of {@link BinaryKernel}; the op with its gradient rule is
 * {@code dev.mpt.core.Binary}, which names one of these constants.
 */
public enum BinaryOp {
    ADD {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] + b[bo + i];
            }
        }
    },
    SUB {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] - b[bo + i];
            }
        }
    },
    MUL {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] * b[bo + i];
            }
        }
    },
    DIV {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] / b[bo + i];
            }
        }
    },
    MAX {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = Math.max(a[ao + i], b[bo + i]);
            }
        }
    },
    MIN {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = Math.min(a[ao + i], b[bo + i]);
            }
        }
    },
    GT {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] > b[bo + i] ? 1f : 0f;
            }
        }
    },
    LT {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] < b[bo + i] ? 1f : 0f;
            }
        }
    },
    GE {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] >= b[bo + i] ? 1f : 0f;
            }
        }
    },
    LE {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] <= b[bo + i] ? 1f : 0f;
            }
        }
    },
    EQ {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] == b[bo + i] ? 1f : 0f;
            }
        }
    },
    NE {
        @Override
        public void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
            for (int i = 0; i < n; i++) {
                o[oo + i] = a[ao + i] != b[bo + i] ? 1f : 0f;
            }
        }
    };

    /** {@code o[oo+i] = a[ao+i] op b[bo+i]} for {@code i < n}; the plain twin of {@link BinaryKernel}. */
    public abstract void apply(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n);
}
