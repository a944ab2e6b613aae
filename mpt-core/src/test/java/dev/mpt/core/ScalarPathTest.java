package dev.mpt.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.mpt.core.kernel.ActivationKernel;
import dev.mpt.core.kernel.BinaryKernel;
import dev.mpt.core.kernel.Convert;
import dev.mpt.core.kernel.Simd;
import dev.mpt.core.number.DType;
import dev.mpt.core.testing.ThreadInvariance;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The README's two promises about the scalar fallback: without {@code jdk.incubator.vector} mpt
 * logs one warning and uses scalar loops, and those loops give the same results as the SIMD path.
 *
 * <p>The test runs in both of mpt-core's Surefire executions. The default one (Vector API on)
 * writes a SHA-256 digest of every output of every case of {@link ThreadCountInvarianceTest} (all
 * ops forward and backward, the conversions; FP32, FP16, BF16) to the file named by the system
 * property {@value #DIGESTS_PROPERTY}. The {@code scalar-path} execution, a JVM started without
 * {@code --add-modules jdk.incubator.vector} after the default one, checks that the warning was
 * logged, that every kernel facade chose its scalar class, and recomputes the digests: equal
 * digests mean the scalar path and the SIMD path produced the same bits, output by output.
 * Comparing across the two JVMs is the only way to hold them together end to end, because a JVM
 * without the module cannot load the Vector API kernels; the kernel tests
 * ({@code GemmTest}, {@code ConvertTest}, {@code BinaryKernelTest}) hold each vector kernel to its
 * plain twin inside one JVM.
 */
class ScalarPathTest {

    /** System property naming the digest file shared by the two executions. */
    static final String DIGESTS_PROPERTY = "mpt.test.simdDigests";
    private static final long SEED = 17;

    @Test
    void simdAndScalarPathsGiveTheSameBits() throws IOException {
        String file = System.getProperty(DIGESTS_PROPERTY);
        assumeTrue(file != null, "run by Maven, which names the digest file");
        Path path = Path.of(file);
        Map<String, String> digests = digests();
        if (Simd.VECTOR_ENABLED) {
            Files.createDirectories(path.getParent());
            Properties p = new Properties();
            p.putAll(digests);
            try (Writer w = Files.newBufferedWriter(path)) {
                p.store(w, "SHA-256 of each output of ThreadCountInvarianceTest's cases on the SIMD path");
            }
            return;
        }
        if (!Files.exists(path)) {
            fail("no SIMD digests at " + path + ": the default Surefire execution writes them; run the whole "
                    + "mpt-core test phase");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(path)) {
            p.load(r);
        }
        List<String> differ = new ArrayList<>();
        for (var e : digests.entrySet()) {
            if (!e.getValue().equals(p.getProperty(e.getKey()))) {
                differ.add(e.getKey());
            }
        }
        assertEquals(p.size(), digests.size(), "outputs on the SIMD path vs the scalar path");
        assertTrue(differ.isEmpty(), "scalar path differs from the SIMD path in " + differ);
    }

    /** Without the module: one warning naming the fix, and the scalar classes behind every facade. */
    @Test
    void withoutTheVectorModuleOneWarningAndScalarKernels() throws ReflectiveOperationException {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty(),
                "only in the scalar-path execution");
        assertFalse(Simd.VECTOR_ENABLED);
        List<ILoggingEvent> warnings = LogRecorder.events().stream()
                .filter(e -> e.getLevel() == Level.WARN && e.getLoggerName().equals(Simd.class.getName()))
                .toList();
        assertEquals(1, warnings.size(), "warnings from Simd: " + warnings);
        assertTrue(warnings.get(0).getFormattedMessage().contains("--add-modules jdk.incubator.vector"),
                warnings.get(0).getFormattedMessage());
        assertEquals("dev.mpt.core.kernel.ScalarConvert", kernelOf(Convert.class, "KERNEL"));
        assertEquals("dev.mpt.core.kernel.ScalarGemmKernel",
                kernelOf(Class.forName("dev.mpt.core.kernel.BlockedGemm"), "KERNEL"));
        assertFalse(BinaryKernel.INSTANCE.getClass().getName().contains("Vector"),
                BinaryKernel.INSTANCE.getClass().getName());
        assertEquals(ActivationKernel.ScalarActivationKernel.class, ActivationKernel.INSTANCE.getClass());
    }

    private static String kernelOf(Class<?> facade, String field) throws ReflectiveOperationException {
        var f = facade.getDeclaredField(field);
        f.setAccessible(true);
        return f.get(null).getClass().getName();
    }

    /** {@code "case|dtype|output" -> SHA-256 hex} over every case of the thread-count harness. */
    private static Map<String, String> digests() {
        Map<String, String> out = new TreeMap<>();
        for (var c : ThreadCountInvarianceTest.CASES) {
            for (DType dt : c.dtypes()) {
                ThreadInvariance.record(dt, SEED, c.body()).forEach((name, bits) ->
                        out.put(c.name() + "|" + dt + "|" + name, sha256(bits)));
            }
        }
        return out;
    }

    private static String sha256(int[] bits) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(bits.length * Integer.BYTES);
            b.asIntBuffer().put(bits);
            return HexFormat.of().formatHex(md.digest(b.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
