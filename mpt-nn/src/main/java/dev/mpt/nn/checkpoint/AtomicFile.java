package dev.mpt.nn.checkpoint;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces a file so that a crash or an exception mid-write never leaves it half written: the
 * content goes to a temporary file {@code .<name>.<random>.tmp} in the same directory, which is
 * flushed to disk and then renamed over the target ({@link StandardCopyOption#ATOMIC_MOVE}, or a
 * plain replacing move where the file system cannot rename atomically); the directory is then
 * flushed too, so the rename survives a power cut. Until the rename the previous file is untouched;
 * on failure the temporary file is deleted and the {@link IOException} names the target.
 *
 * <p>A process killed mid-write cannot delete its temporary file, so each write first deletes the
 * temporary files that earlier writes of the same target left behind. A temporary file counts as
 * left behind only when all of these hold, so that two saves of the same target, in one process or
 * in two, never delete each other's file:
 * <ul>
 *   <li>no write in this JVM is using it;</li>
 *   <li>no process holds its lock: a writer locks its temporary file ({@link FileChannel#tryLock()})
 *       from creation until after the rename, and the operating system drops the lock when the
 *       process dies;</li>
 *   <li>it was last modified more than {@link #STALE_AFTER} ago, which covers the instant between a
 *       writer creating the file and locking it.</li>
 * </ul>
 * Where the file system has no locks (some network file systems) nothing is deleted.
 */
public final class AtomicFile {

    private static final Logger LOG = LoggerFactory.getLogger(AtomicFile.class);

    /**
     * How old an unlocked temporary file must be before a later write deletes it. A live writer
     * locks its file microseconds after creating it; 10 s leaves room for a descheduled thread.
     */
    static final Duration STALE_AFTER = Duration.ofSeconds(10);

    /** Temporary files that writes in this JVM are using (never opened by the cleanup). */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

    /** Writes a file's content to a stream. */
    @FunctionalInterface
    public interface ContentWriter {
        /** Writes the content to {@code out}; need not flush or close it. */
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFile() {
    }

    /**
     * Writes {@code target} with the content {@code writer} produces, atomically as described above,
     * after deleting temporary files that crashed writes of {@code target} left behind.
     *
     * @throws IOException when writing or renaming fails (the message names {@code target}, the cause
     *                     is the original exception); {@code target} then still holds its previous
     *                     content (or still does not exist)
     */
    public static void write(Path target, ContentWriter writer) throws IOException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(writer, "writer");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        String name = abs.getFileName().toString();
        Path tmp = null;
        FileChannel ch = null;
        try {
            deleteLeftovers(dir, name);
            tmp = reserveTemp(dir, name);
            ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            FileLock lock = tryLock(ch);
            if (lock == null) {
                LOG.debug("Could not lock {}; other writers will not delete it while it is new", tmp);
            }
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            writer.writeTo(out);
            out.flush();
            ch.force(true);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                LOG.warn("File system of {} cannot rename atomically; replacing the file with a plain move", dir);
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            ch.close();                 // after the rename: the lock guarded the temporary file until then
            ch = null;
            forceDirectory(dir);
        } catch (Throwable t) {
            cleanUpAfterFailure(tmp, ch, t);
            if (t instanceof IOException io) {
                throw new IOException("AtomicFile: cannot write " + abs + ": " + io.getMessage()
                        + (tmp == null ? "" : " (temporary file " + tmp.getFileName() + ")"), io);
            }
            throw t;
        } finally {
            if (tmp != null) {
                LIVE.remove(tmp);
            }
        }
    }

    private static void cleanUpAfterFailure(Path tmp, FileChannel ch, Throwable t) {
        try {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException d) {
            t.addSuppressed(d);
        }
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException c) {
            t.addSuppressed(c);
        }
    }

    /**
     * Picks {@code dir/.<name>.<random>.tmp}, not yet existing, and registers it in {@link #LIVE}
     * before it is created, so the cleanup of a concurrent write in this JVM never opens it.
     */
    private static Path reserveTemp(Path dir, String name) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path p = dir.resolve("." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                    + ".tmp");
            if (!Files.exists(p) && LIVE.add(p)) {
                return p;
            }
            if (attempt == 10) {
                throw new FileAlreadyExistsException(p.toString(), null, "no free temporary file name after 10 tries");
            }
        }
    }

    /** Deletes {@code dir/.<name>.<random>.tmp} files left by crashed writes (see the class doc). */
    private static void deleteLeftovers(Path dir, String name) {
        Pattern ours = Pattern.compile("\\." + Pattern.quote(name) + "\\.[0-9a-z]{1,13}\\.tmp");
        Instant staleBefore = Instant.now().minus(STALE_AFTER);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir,
                p -> ours.matcher(p.getFileName().toString()).matches())) {
            for (Path p : s) {
                if (LIVE.contains(p) || Files.getLastModifiedTime(p).toInstant().isAfter(staleBefore)) {
                    continue;
                }
                try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE);
                     FileLock lock = tryLock(c)) {
                    if (lock != null) {
                        long bytes = c.size();
                        Files.delete(p);
                        LOG.info("Deleted {} ({} bytes), left by an interrupted write of {}", p, bytes, name);
                    }
                }
            }
        } catch (IOException e) {
            LOG.warn("Could not delete temporary files left by earlier writes of {}: {}", dir.resolve(name), e.toString());
        }
    }

    /** The lock, or {@code null} when another process or this JVM holds one or the file system has none. */
    private static FileLock tryLock(FileChannel ch) {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException | IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** Flushes the directory entry of the rename; not possible on every platform (e.g. Windows), then skipped. */
    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("Cannot flush directory {}: {}", dir, e.toString());
        }
    }
}
