package dev.mpt.nn.checkpoint;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a file so that a crash or an exception mid-write never leaves it half written: the
 * content goes to a temporary file in the same directory, which is flushed to disk and then renamed
 * over the target ({@link StandardCopyOption#ATOMIC_MOVE}, or a plain replacing move where the file
 * system cannot rename atomically). Until the rename the previous file is untouched; on failure the
 * temporary file is deleted.
 */
public final class AtomicFile {

    private static final Logger LOG = LoggerFactory.getLogger(AtomicFile.class);

    /** Writes a file's content to a stream. */
    @FunctionalInterface
    public interface ContentWriter {
        /** Writes the content to {@code out}; need not flush or close it. */
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFile() {
    }

    /**
     * Writes {@code target} with the content {@code writer} produces, atomically as described above.
     *
     * @throws IOException when writing or renaming fails; {@code target} then still holds its
     *                     previous content (or still does not exist)
     */
    public static void write(Path target, ContentWriter writer) throws IOException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(writer, "writer");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = createTemp(dir, abs.getFileName().toString());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
                writer.writeTo(out);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                LOG.warn("File system of {} cannot rename atomically; replacing the file with a plain move", dir);
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException d) {
                t.addSuppressed(d);
            }
            throw t;
        }
    }

    /**
     * Creates {@code dir/.<name>.<random>.tmp} with the default permissions a new file gets
     * (unlike {@link Files#createTempFile}, which makes it owner-only).
     */
    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path p = dir.resolve("." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                    + ".tmp");
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }
}
