package dev.mpt.core;

/** Argument checks shared by the op drivers; messages name the op and the offending values. */
final class Checks {

    private Checks() {
    }

    /** Throws unless both tensors have the same dtype. */
    static void sameDtype(String op, Tensor a, Tensor b) {
        if (a.dtype != b.dtype) {
            throw new IllegalArgumentException(op + ": dtype mismatch " + a.dtype + " vs " + b.dtype
                    + "; convert one with to(DType)");
        }
    }
}
