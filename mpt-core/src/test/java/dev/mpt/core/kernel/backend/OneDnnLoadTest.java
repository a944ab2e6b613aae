package dev.mpt.core.kernel.backend;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Loading the real natives (on the test class path): the ISA floor of a route, and the log line. */
class OneDnnLoadTest {

    private static void assumeLinuxX86() {
        Assumptions.assumeTrue(OneDnnGemm.PLATFORM.equals(NativeLibraries.platform()),
                "oneDNN natives are tested on linux-x86_64");
    }

    @Test
    void aCpuBelowTheRoutesIsaFloorIsRefusedAndTheJavaKernelsStay() {
        assumeLinuxX86();
        var beyondAnyCpu = new OneDnnGemm.Routes(false, false, true, Integer.MAX_VALUE);
        var e = assertThrows(UnsupportedOperationException.class, () -> OneDnnGemm.load(
                Backends.class.getClassLoader(), OneDnnGemm.PLATFORM, NativeLibraries.cacheRoot(), beyondAnyCpu));
        assertTrue(e.getMessage().startsWith("oneDNN reports CPU ISA "), e.getMessage());
        assertSame(GemmBackend.JAVA, Backends.select("onednn", routes -> OneDnnGemm.load(
                Backends.class.getClassLoader(), OneDnnGemm.PLATFORM, NativeLibraries.cacheRoot(), beyondAnyCpu)));
    }

    @Test
    void theLoadedBackendNamesItsVersionIsaAndRoutes() {
        assumeLinuxX86();
        GemmBackend b = Backends.oneDnn().orElseThrow(() -> new AssertionError("oneDNN did not load; see the log"));
        assertTrue(b.toString().matches("oneDNN \\d+\\.\\d+\\.\\d+ \\(ISA .+\\) for BF16 FP16 FP32"), b.toString());
    }
}
