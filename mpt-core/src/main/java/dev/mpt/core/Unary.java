package dev.mpt.core;

import dev.mpt.core.kernel.ActivationKernel;
import dev.mpt.core.kernel.ThreadScratch;

/**
 * Point-wise unary ops: each constant holds its forward kernel and, next to it, its gradient
 * rule. Kernels run over contiguous FP32 arrays (16-bit inputs are widened exactly first); the
 * caller rounds the FP32 result once to the output dtype. Transcendentals are evaluated in double
 * and rounded to FP32, except GELU's sigmoid (FP32 arithmetic, see there). {@code p} and {@code q}
 * are the op's constant parameters; {@code x} and {@code y} (or {@code gx}) never overlap.
 */
enum Unary {
    NEG {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = -x[i];
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = -g[i];
            }
        }
    },
    ADD_SCALAR {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = x[i] + p;
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            System.arraycopy(g, from, gx, from, to - from);
        }
    },
    MUL_SCALAR {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = x[i] * p;
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = g[i] * p;
            }
        }
    },
    DIV_SCALAR {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = x[i] / p;
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = g[i] / p;
            }
        }
    },
    EXP {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = (float) Math.exp(x[i]);
            }
        }

        /** d e^x = e^x, recomputed in double from x. */
        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = (float) (g[i] * Math.exp(x[i]));
            }
        }
    },
    LOG {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = (float) Math.log(x[i]);
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = g[i] / x[i];
            }
        }
    },
    LOG1P {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = (float) Math.log1p(x[i]);
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = (float) (g[i] / (1.0 + x[i]));
            }
        }
    },
    SQRT {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = (float) Math.sqrt(x[i]);
            }
        }

        /** d sqrt(x) = 1 / (2 sqrt(x)). */
        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = (float) (g[i] * 0.5 / Math.sqrt(x[i]));
            }
        }
    },
    POW {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = (float) Math.pow(x[i], p);
            }
        }

        /** d x^p = p x^(p-1). */
        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = p == 0f ? 0f : (float) (g[i] * p * Math.pow(x[i], p - 1.0));
            }
        }
    },
    ABS {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = Math.abs(x[i]);
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = x[i] > 0 ? g[i] : x[i] < 0 ? -g[i] : 0f;
            }
        }
    },
    RELU {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = Math.max(x[i], 0f);
            }
        }

        /*
         * The plain loop, gx[i] = x[i] > 0 ? g[i] : 0f, branches on the sign of x: with activations
         * of random sign the mispredictions made it ~4x slower (TensorOpsBenchmark.reluForwardBackward,
         * [256, 1024]). Branch-free: the bits of x lie in [1, 0x7f800000] exactly when x > 0 (positive,
         * non-zero, not NaN); t = bits - 1 then lies in [0, 0x7f800000), and the sign bit of
         * (t - 0x7f800000) & ~t says so. The mask keeps g's bits or makes +0, as the ternary does.
         */
        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                int t = Float.floatToRawIntBits(x[i]) - 1;
                int keep = ((t - 0x7f800000) & ~t) >> 31;
                gx[i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[i]) & keep);
            }
        }
    },
    LEAKY_RELU {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = x[i] > 0 ? x[i] : x[i] * p;
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = x[i] > 0 ? g[i] : g[i] * p;
            }
        }
    },
    SIGMOID {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = (float) (1.0 / (1.0 + Math.exp(-x[i])));
            }
        }

        /** d s(x) = s(x) (1 - s(x)), with s recomputed in double from x. */
        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                double s = 1.0 / (1.0 + Math.exp(-x[i]));
                gx[i] = (float) (g[i] * s * (1.0 - s));
            }
        }
    },
    TANH {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = (float) Math.tanh(x[i]);
            }
        }

        /** d tanh(x) = 1 - tanh(x)^2, with tanh recomputed in double from x. */
        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                double t = Math.tanh(x[i]);
                gx[i] = (float) (g[i] * (1.0 - t * t));
            }
        }
    },
    /*
     * 0.5 x (1 + tanh(z)) = x sigmoid(2z), z = c (x + a x^3): 2z in double rounded to FP32, the
     * sigmoid by ActivationKernel (FP32 arithmetic, a vector at a time: the double tanh per element
     * was about a quarter of a char-gpt step), the product rounded once. The sigmoid form has no
     * cancellation where tanh(z) nears -1. Relative error, first order (FloatMath's bounds,
     * d_e < 2^-26): u |2z| (1 - s) from rounding 2z, d_e + 5u for the sigmoid, u for the product.
     */
    GELU {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                double v = x[i];
                y[i] = (float) (2 * GELU_C * (v + GELU_A * v * v * v));
            }
            ActivationKernel.INSTANCE.sigmoid(y, from, y, from, to - from);
            for (int i = from; i < to; i++) {
                y[i] = x[i] * y[i];
            }
        }

        /**
         * d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(z); with s = sigmoid(2z),
         * 0.5 (1 + t) = s and 1 - t^2 = 4 s (1 - s): {@code s + 2 x s (1 - s) c (1 + 3 a x^2)}, s as
         * in the forward pass, the rest in double, rounded once.
         */
        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            // s goes to a chunk of its own: gx may be g itself (an owned gradient updated in place),
            // so gx[i] is written only after g[i] is read
            float[] sc = GeluScratch.SIGMOID.get(0, GELU_CHUNK); // per thread, reused across steps
            for (int c = from; c < to; c += GELU_CHUNK) {
                int n = Math.min(GELU_CHUNK, to - c);
                for (int i = 0; i < n; i++) {
                    double v = x[c + i];
                    sc[i] = (float) (2 * GELU_C * (v + GELU_A * v * v * v));
                }
                ActivationKernel.INSTANCE.sigmoid(sc, 0, sc, 0, n);
                for (int i = 0; i < n; i++) {
                    double v = x[c + i];
                    double s = sc[i];
                    double d = s + 2 * v * s * (1 - s) * GELU_C * (1 + 3 * GELU_A * v * v);
                    gx[c + i] = (float) (g[c + i] * d);
                }
            }
        }
    },
    CLAMP {
        @Override
        void forward(float[] x, float[] y, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                y[i] = Math.min(Math.max(x[i], p), q);
            }
        }

        @Override
        void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q) {
            for (int i = from; i < to; i++) {
                gx[i] = x[i] >= p && x[i] <= q ? g[i] : 0f;
            }
        }
    };

    /** Elements of GELU's backward whose sigmoid is held at once (a few KiB, stays in L1). */
    static final int GELU_CHUNK = 1024;

    /** GELU backward's per-thread sigmoid chunk, in a holder class (an enum's own statics come after its constants). */
    private static final class GeluScratch {
        static final ThreadScratch SIGMOID = new ThreadScratch(1);
    }
    /** sqrt(2 / pi), the GELU tanh-approximation scale. */
    static final double GELU_C = Math.sqrt(2.0 / Math.PI);
    /** The cubic coefficient of the GELU tanh approximation. */
    static final double GELU_A = 0.044715;

    /** {@code y[i] = op(x[i])} for {@code from <= i < to}. */
    abstract void forward(float[] x, float[] y, int from, int to, float p, float q);

    /**
     * {@code gx[i] = g[i] * op'(x[i])} for {@code from <= i < to}, the derivative evaluated from the
     * input alone. {@code gx} may be {@code g} itself (an owned gradient updated in place): write
     * {@code gx[i]} only after reading {@code g[i]}, and keep no other state in {@code gx}.
     */
    abstract void backward(float[] x, float[] g, float[] gx, int from, int to, float p, float q);

    /** Lower-case name for messages and graph printing. */
    String opName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
