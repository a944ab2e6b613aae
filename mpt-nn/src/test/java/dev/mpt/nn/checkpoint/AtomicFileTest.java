package dev.mpt.nn.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    @TempDir
    Path dir;

    private List<Path> listing() throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void writerThatThrowsMidwayLeavesTheOldFileIntact() throws IOException {
        Path f = dir.resolve("ckpt.bin");
        byte[] old = new byte[100_000];
        java.util.Arrays.fill(old, (byte) 7);
        Files.write(f, old);
        IOException boom = new IOException("disk full");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(f, out -> {
            out.write(new byte[200_000]); // more than the buffer, so part of it reaches the temporary file
            throw boom;
        }));
        assertSame(boom, e.getCause());
        assertTrue(e.getMessage().contains(f.toAbsolutePath().toString()) && e.getMessage().contains("disk full"),
                e.getMessage());
        assertArrayEquals(old, Files.readAllBytes(f));
        assertEquals(List.of(f), listing(), "the temporary file is deleted");

        IllegalStateException rt = assertThrows(IllegalStateException.class, () -> AtomicFile.write(f, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        }));
        assertEquals("bug", rt.getMessage());
        assertArrayEquals(old, Files.readAllBytes(f));
        assertEquals(List.of(f), listing());
    }

    @Test
    void failedFirstWriteCreatesNothing() throws IOException {
        Path f = dir.resolve("new.bin");
        assertThrows(IOException.class, () -> AtomicFile.write(f, out -> {
            throw new IOException("no");
        }));
        assertFalse(Files.exists(f));
        assertEquals(List.of(), listing());
    }

    @Test
    void replacesTheFileWhenTheWriteSucceeds() throws IOException {
        Path f = dir.resolve("data.bin");
        AtomicFile.write(f, out -> out.write(new byte[] {1, 2, 3}));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f));
        AtomicFile.write(f, out -> out.write(new byte[] {4}));
        assertArrayEquals(new byte[] {4}, Files.readAllBytes(f));
        assertEquals(List.of(f), listing());
    }

    @Test
    void missingDirectoryFails() {
        assertThrows(IOException.class, () -> AtomicFile.write(dir.resolve("no/such/dir/f.bin"), out -> out.write(1)));
        assertThrows(NullPointerException.class, () -> AtomicFile.write(null, out -> { }));
    }

    @Test
    void errorsNameTheTargetFile() {
        Path f = dir.resolve("model.safetensors");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(f, out -> {
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().contains(f.toAbsolutePath().toString())
                && e.getMessage().contains("No space left on device"), e.getMessage());
        IOException missing = assertThrows(IOException.class,
                () -> AtomicFile.write(dir.resolve("no/such/dir/f.bin"), out -> out.write(1)));
        assertTrue(missing.getMessage().contains(dir.resolve("no/such/dir/f.bin").toString()), missing.getMessage());
    }

    /** A temporary file as a writer killed mid-write leaves it: named like AtomicFile's, unlocked, old. */
    private Path crashDebris(String target, String random, int bytes) throws IOException {
        Path p = dir.resolve("." + target + "." + random + ".tmp");
        Files.write(p, new byte[bytes]);
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(3600)));
        return p;
    }

    @Test
    void theNextSaveDeletesTemporaryFilesLeftByCrashedSavesOfTheSameTarget() throws IOException {
        Path f = dir.resolve("ckpt.bin");
        Path debris1 = crashDebris("ckpt.bin", "1x2y3z", 100_000);
        Path debris2 = crashDebris("ckpt.bin", "3w5e8r1t0a9bc", 10);
        Path otherTarget = crashDebris("other.bin", "1x2y3z", 10);
        Path notOurs = dir.resolve(".ckpt.bin.notes");
        Files.write(notOurs, new byte[1]);
        Path notOurs2 = crashDebris("ckpt.bin", "UPPER", 1);
        AtomicFile.write(f, out -> out.write(new byte[] {1, 2}));
        assertArrayEquals(new byte[] {1, 2}, Files.readAllBytes(f));
        assertFalse(Files.exists(debris1), "stale temporary file of the target is deleted");
        assertFalse(Files.exists(debris2), "stale temporary file of the target is deleted");
        assertEquals(List.of(notOurs, notOurs2, otherTarget, f).stream().sorted().toList(), listing(),
                "files of other targets and names AtomicFile does not make are kept");
    }

    @Test
    void aConcurrentSaveToTheSameTargetKeepsTheOtherSavesLiveTemporaryFile() throws Exception {
        Path f = dir.resolve("ckpt.bin");
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread slow = new Thread(() -> {
            try {
                AtomicFile.write(f, out -> {
                    out.write(new byte[100_000]);
                    out.flush();
                    writing.countDown();
                    try {
                        goOn.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                    out.write(7);
                });
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        slow.start();
        assertTrue(writing.await(30, TimeUnit.SECONDS));
        List<Path> live = listing();
        assertEquals(1, live.size(), "" + live);
        // make the live file look old, so that only its being in use protects it
        Files.setLastModifiedTime(live.get(0), FileTime.from(Instant.now().minusSeconds(3600)));
        AtomicFile.write(f, out -> out.write(new byte[] {9}));
        assertTrue(Files.exists(live.get(0)), "the other save's temporary file was deleted");
        goOn.countDown();
        slow.join(TimeUnit.SECONDS.toMillis(30));
        assertEquals(null, failure.get());
        assertEquals(100_001, Files.size(f), "the later rename wins");
        assertEquals(List.of(f), listing());
    }

    @Test
    void aTemporaryFileLockedByAnotherProcessIsKept() throws Exception {
        Path f = dir.resolve("ckpt.bin");
        Path live = crashDebris("ckpt.bin", "abc123", 1000);
        Path locker = dir.resolve("Locker.java");
        Files.writeString(locker, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class Locker {
                    public static void main(String[] a) throws Exception {
                        try (FileChannel ch = FileChannel.open(Path.of(a[0]), StandardOpenOption.WRITE);
                             var lock = ch.lock()) {
                            System.out.println("locked");
                            System.out.flush();
                            System.in.read();
                        }
                    }
                }
                """);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, locker.toString(), live.toString()).redirectErrorStream(true).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
            assertEquals("locked", line);
            Files.setLastModifiedTime(live, FileTime.from(Instant.now().minusSeconds(3600)));
            AtomicFile.write(f, out -> out.write(1));
            assertTrue(Files.exists(live), "a temporary file another process holds locked was deleted");
        } finally {
            p.getOutputStream().close();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroy();
        }
        Files.delete(locker);
        AtomicFile.write(f, out -> out.write(2));
        assertFalse(Files.exists(live), "once its process has gone, the file is debris");
        assertEquals(List.of(f), listing());
    }
}
