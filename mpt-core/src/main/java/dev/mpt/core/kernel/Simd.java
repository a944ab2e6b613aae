package dev.mpt.core.kernel;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses, once at start-up, between a kernel's scalar implementation (plain loops that C2
 * auto-vectorizes; always available) and its Panama Vector API implementation.
 *
 * <p>The Vector API path is used when the module {@code jdk.incubator.vector} is in the boot
 * layer (JVM flag {@code --add-modules jdk.incubator.vector}) and the system property
 * {@code mpt.vector} is not {@code false}. The scalar classes never link incubator classes: a
 * vector implementation is loaded by name only when it is selected.
 */
public final class Simd {

    /** System property that turns the Vector API path off when set to {@code false}. */
    public static final String VECTOR_PROPERTY = "mpt.vector";

    private static final Logger LOG = LoggerFactory.getLogger(Simd.class);

    /** Whether kernels use their Vector API implementations in this JVM. */
    public static final boolean VECTOR_ENABLED = detect();

    private Simd() {
    }

    private static boolean detect() {
        boolean present = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        boolean allowed = !"false".equalsIgnoreCase(System.getProperty(VECTOR_PROPERTY, "true"));
        if (!present) {
            LOG.warn("Vector API not available: mpt kernels use scalar loops. "
                    + "Pass --add-modules jdk.incubator.vector to the JVM for the SIMD kernels.");
        } else if (!allowed) {
            LOG.info("Vector API disabled by -D{}=false: mpt kernels use scalar loops.", VECTOR_PROPERTY);
        } else {
            LOG.debug("Vector API enabled for mpt kernels");
        }
        return present && allowed;
    }

    /**
     * Returns the vector implementation named {@code vectorClassName} (a public no-argument
     * constructor implementing {@code type}) when {@link #VECTOR_ENABLED}, else {@code scalar.get()}.
     * A vector class that fails to load falls back to the scalar one with a warning.
     */
    public static <T> T select(Class<T> type, String vectorClassName, Supplier<? extends T> scalar) {
        if (VECTOR_ENABLED) {
            try {
                return type.cast(Class.forName(vectorClassName).getConstructor().newInstance());
            } catch (ReflectiveOperationException | LinkageError e) {
                LOG.warn("could not load {}; using scalar kernels: {}", vectorClassName, e.toString());
            }
        }
        return scalar.get();
    }
}
