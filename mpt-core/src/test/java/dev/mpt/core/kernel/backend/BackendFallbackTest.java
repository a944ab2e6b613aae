package dev.mpt.core.kernel.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Every way the native backend can be unavailable leaves the Java kernels in charge with one log
 * line and no exception: natives absent, a platform or CPU not served, a library that does not
 * load, a primitive oneDNN does not implement, an unknown property value. None of these tests needs
 * the natives: they use empty or fake class paths and a fake primitive factory.
 */
class BackendFallbackTest {

    @TempDir
    Path tmp;

    private static final ClassLoader EMPTY = new URLClassLoader(new URL[0], null);

    /** Runs {@code select} and returns the backend chosen and the log lines it wrote. */
    private static <T> T logged(Supplier<T> action, List<ILoggingEvent> events) {
        Logger logger = (Logger) LoggerFactory.getLogger(Backends.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Level before = logger.getLevel();
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);
        try {
            return action.get();
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(before);
            events.addAll(appender.list);
        }
    }

    private void assertFallsBack(String mode, Backends.Loader loader, Level level, String expected) {
        List<ILoggingEvent> events = new java.util.ArrayList<>();
        GemmBackend chosen = logged(() -> Backends.select(mode, loader), events);
        assertSame(GemmBackend.JAVA, chosen);
        assertEquals(1, events.size(), () -> "one log line, got " + events);
        ILoggingEvent e = events.get(0);
        assertEquals(level, e.getLevel());
        assertTrue(e.getFormattedMessage().startsWith("mpt GEMM backend: java"), e.getFormattedMessage());
        assertTrue(e.getFormattedMessage().contains(expected), () -> e.getFormattedMessage() + " lacks " + expected);
    }

    @Test
    void absentNativesLeaveTheJavaKernelsWithTheDependencyToAdd() {
        Backends.Loader absent = routes -> OneDnnGemm.load(EMPTY, OneDnnGemm.PLATFORM, tmp, routes);
        assertFallsBack("auto", absent, Level.INFO, "org.bytedeco:dnnl");
        assertFallsBack("onednn", absent, Level.WARN, "not on the class path");
    }

    @Test
    void anUnsupportedPlatformLeavesTheJavaKernels() {
        assertFallsBack("auto", routes -> OneDnnGemm.load(EMPTY, "linux-riscv64", tmp, routes), Level.WARN,
                "linux-riscv64");
        assertThrows(UnsupportedOperationException.class,
                () -> OneDnnGemm.load(EMPTY, "macosx-arm64", tmp, OneDnnGemm.Routes.ALL));
    }

    @Test
    void aLibraryThatFailsToLoadLeavesTheJavaKernels() throws IOException {
        Path folder = tmp.resolve("jar/org/bytedeco/dnnl/" + OneDnnGemm.PLATFORM);
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("libgomp.so.1"), "not an ELF file");
        Files.writeString(folder.resolve("libdnnl.so.3"), "not an ELF file");
        ClassLoader broken = new URLClassLoader(new URL[] {tmp.resolve("jar").toUri().toURL()}, null);
        Backends.Loader loader = routes -> OneDnnGemm.load(broken, OneDnnGemm.PLATFORM, tmp.resolve("cache"), routes);
        assertFallsBack("auto", loader, Level.WARN, "did not load");
        assertFallsBack("onednn", loader, Level.WARN, "did not load");
    }

    @Test
    void anUnknownPropertyValueLeavesTheJavaKernels() {
        assertFallsBack("cuda", routes -> {
            throw new AssertionError("must not load");
        }, Level.WARN, "unknown -Dmpt.backend=cuda");
        assertSame(GemmBackend.JAVA, Backends.select(" JAVA ", routes -> {
            throw new AssertionError("must not load");
        }));
    }

    @Test
    void anUnimplementedPrimitiveIsDeclinedAndCIsLeftUntouched() {
        int[] created = new int[1];
        OneDnnGemm backend = OneDnnGemm.withFactory(key -> {
            created[0]++;
            return MatmulPrimitives.Entry.declined(Dnnl.UNIMPLEMENTED, "status 3");
        }, OneDnnGemm.Routes.ALL);
        int n = 64;
        float[] a = new float[n * n];
        float[] c = new float[n * n];
        short[] h = new short[n * n];
        java.util.Arrays.fill(c, 7f);
        float[] c0 = c.clone();
        assertFalse(backend.sgemm(2, false, false, n, n, n, a, 0, n, a, 0, n, 0f, c, 0, n));
        assertFalse(backend.gemm16(2, true, false, false, n, n, n, h, 0, n, h, 0, n, 0f, c, 0, n));
        assertFalse(backend.gemm16(2, false, true, true, n, n, n, h, 0, n, h, 0, n, 1f, c, 0, n));
        assertArrayEquals(c0, c);
        // FP16 is retried widened to FP32 before it is declined: FP32, BF16, FP16 and widened FP16
        assertEquals(4, created[0]);
        // declined primitives are remembered, not re-created
        assertFalse(backend.sgemm(2, false, false, n, n, n, a, 0, n, a, 0, n, 0f, c, 0, n));
        assertEquals(4, created[0]);
    }

    @Test
    void aPrimitiveThatThrowsIsDeclined() {
        OneDnnGemm backend = OneDnnGemm.withFactory(key -> {
            throw new IllegalStateException("dnnl_memory_desc_create_with_strides returned status 2");
        }, OneDnnGemm.Routes.ALL);
        float[] x = new float[64 * 64];
        assertFalse(backend.sgemm(1, false, false, 64, 64, 64, x, 0, 64, x, 0, 64, 0f, x.clone(), 0, 64));
    }

    @Test
    void unroutedDtypesAreDeclinedWithoutCreatingPrimitives() {
        OneDnnGemm backend = OneDnnGemm.withFactory(key -> {
            throw new AssertionError("must not create " + key);
        }, new OneDnnGemm.Routes(false, false, true, OneDnnGemm.ISA_AVX2));
        float[] x = new float[64 * 64];
        short[] h = new short[64 * 64];
        assertFalse(backend.sgemm(1, false, false, 64, 64, 64, x, 0, 64, x, 0, 64, 0f, x.clone(), 0, 64));
        assertFalse(backend.gemm16(1, false, false, false, 64, 64, 64, h, 0, 64, h, 0, 64, 0f, x.clone(), 0, 64));
    }
}
