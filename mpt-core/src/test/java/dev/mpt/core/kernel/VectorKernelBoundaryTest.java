package dev.mpt.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * No vector crosses a method of the Vector API kernels: C2 boxes a vector passed to or returned
 * from a call it does not inline (and then may not intrinsify the operations on it), and whether
 * it inlines even a one-line helper depends on profile counts and compile order. A {@code load}
 * helper left out of line made a fashion-cnn step run ~10x slower and allocate 10 GiB instead of
 * 126 MiB, in some fresh JVMs only (issue 11). Inside the kernels only the JDK's own,
 * force-inlined vector methods are called.
 */
class VectorKernelBoundaryTest {

    private static final List<Class<? extends Object>> KERNELS = List.of(VectorGemmKernel.class,
            VectorBinaryKernel.class, VectorActivationKernel.class, VectorConvert.class, VectorTranspose.class);

    @Test
    void noKernelMethodTakesOrReturnsAVector() {
        Assumptions.assumeTrue(Simd.VECTOR_ENABLED, "needs --add-modules jdk.incubator.vector");
        List<String> offenders = new ArrayList<>();
        for (Class<?> kernel : KERNELS) {
            for (Method m : kernel.getDeclaredMethods()) {
                boolean vectorSignature = Stream.concat(Stream.of(m.getReturnType()), Arrays.stream(m.getParameterTypes()))
                        .anyMatch(t -> t.getPackageName().equals("jdk.incubator.vector"));
                if (vectorSignature) {
                    offenders.add(kernel.getSimpleName() + "." + m.getName() + Arrays.toString(m.getParameterTypes()));
                }
            }
        }
        assertEquals(List.of(), offenders, "kernel methods that pass vectors across a call (C2 may box them)");
    }
}
