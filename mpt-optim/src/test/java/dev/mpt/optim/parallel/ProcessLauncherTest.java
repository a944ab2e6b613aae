package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The launcher's settings; the child JVMs it starts are tested in {@link TcpTrainingTest}. */
class ProcessLauncherTest {

    @Test
    void badSettingsAreExplained() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcessLauncher.builder().workers(0).mainClass("x.Y").build());
        assertEquals("ProcessLauncher: workers must be >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ProcessLauncher.builder().workers(2).build());
        assertEquals("ProcessLauncher: no main class", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ProcessLauncher.builder().workers(2).mainClass("x.Y").masterPort(70000).build());
        assertEquals("ProcessLauncher: master port must be in [0, 65535], got 70000", e.getMessage());
    }
}
