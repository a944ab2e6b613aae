package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Child JVMs started by {@link ProcessLauncher} meet through the environment and compute what threads do. */
class ProcessLauncherTest {

    @Test
    void threeChildJvmsGiveTheInProcessResultsBitForBit(@TempDir Path dir) throws Exception {
        int world = 3;
        int[] codes = ProcessLauncher.builder().workers(world).mainClass(TcpWorkerMain.class.getName())
                .args(List.of(dir.toString())).timeout(Duration.ofSeconds(20)).logDirectory(dir).build().run();
        assertArrayEquals(new int[world], codes, () -> logs(dir, world));
        List<List<Object>> expected = Ranks.onInProcess(world, TcpCollectiveTest.everyCall(world, 11));
        for (int r = 0; r < world; r++) {
            ByteArrayOutputStream bits = new ByteArrayOutputStream();
            TcpWorkerMain.write(expected.get(r), bits);
            assertArrayEquals(bits.toByteArray(), Files.readAllBytes(dir.resolve("rank-" + r + ".bin")), "rank " + r);
        }
    }

    @Test
    void aKilledRankMakesTheOthersFailNamingIt(@TempDir Path dir) throws Exception {
        int world = 3;
        Duration timeout = Duration.ofSeconds(2);
        int[] codes = ProcessLauncher.builder().workers(world).mainClass(TcpWorkerMain.class.getName())
                .args(List.of(dir.toString(), "die-at-call", "3")).timeout(timeout).logDirectory(dir).build().run();
        assertArrayEquals(new int[] {2, 3, 2}, codes, () -> logs(dir, world));
        for (int r : new int[] {0, 2}) {
            String[] f = Files.readString(dir.resolve("rank-" + r + ".failure")).split(" ", 3);
            assertEquals("1", f[0], f[2]);
            // a dead process's connections close at once: no waiting for the timeout
            assertTrue(Long.parseLong(f[1]) < timeout.toMillis(), f[1] + " ms: " + f[2]);
        }
    }

    @Test
    void badCommandLinesAreExplained() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcessLauncher.builder().workers(0).mainClass("x.Y").build());
        assertEquals("ProcessLauncher: workers must be >= 1, got 0", e.getMessage());
    }

    private static String logs(Path dir, int world) {
        StringBuilder s = new StringBuilder();
        for (int r = 0; r < world; r++) {
            try {
                s.append("--- rank ").append(r).append(":\n")
                        .append(Files.readString(dir.resolve("rank-" + r + ".log")));
            } catch (Exception e) {
                s.append(e);
            }
        }
        return s.toString();
    }
}
