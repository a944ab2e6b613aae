package dev.mpt.nn.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        assertSame(boom, e);
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
}
