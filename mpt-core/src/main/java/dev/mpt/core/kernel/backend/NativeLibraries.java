package dev.mpt.core.kernel.backend;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * Finds a set of native libraries on the class path (inside a jar, as Bytedeco's natives jars ship
 * them), copies them once into a per-version cache directory and loads them by path, dependencies
 * first ({@link SymbolLookup#libraryLookup(Path, Arena)} needs a file).
 *
 * <p>The cache lives under the system property {@value #CACHE_PROPERTY} (default
 * {@code java.io.tmpdir/mpt-native-<user>}); a library is copied through a temporary file and an
 * atomic rename, so JVMs starting together do not see half-written files, and is reused when a file
 * of the same size is already there.
 */
final class NativeLibraries {

    /** System property naming the directory natives are extracted to. */
    static final String CACHE_PROPERTY = "mpt.native.cache";

    private NativeLibraries() {
    }

    /** Thrown when the natives are not on the class path (as opposed to present but unloadable). */
    static final class AbsentException extends Exception {
        private static final long serialVersionUID = 1L;

        AbsentException(String message) {
            super(message);
        }
    }

    /** {@code linux-x86_64}-style platform name of this JVM, as Bytedeco names its classifiers. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx"
                : os.startsWith("windows") ? "windows" : os.replace(' ', '_');
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
        return o + "-" + a;
    }

    /**
     * Loads {@code names} (file names in order, dependencies first) found under resource folder
     * {@code folder} of {@code loader}, copied into directory {@code dir}.
     *
     * @return one lookup per name, in order, alive for the life of the JVM
     * @throws AbsentException if a library is not on the class path
     * @throws IOException if a library cannot be copied into the cache
     * @throws IllegalArgumentException if a library cannot be loaded (the linker's message)
     */
    static List<SymbolLookup> load(ClassLoader loader, String folder, Path dir, List<String> names)
            throws AbsentException, IOException {
        List<URL> urls = new ArrayList<>();
        for (String name : names) {
            URL url = loader.getResource(folder + "/" + name);
            if (url == null) {
                throw new AbsentException(folder + "/" + name + " is not on the class path");
            }
            urls.add(url);
        }
        Files.createDirectories(dir);
        List<SymbolLookup> lookups = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            Path file = extract(urls.get(i), dir.resolve(names.get(i)));
            lookups.add(SymbolLookup.libraryLookup(file, Arena.global()));
        }
        return lookups;
    }

    /** Reads {@code version} from a Maven {@code pom.properties} resource, or null when absent. */
    static String mavenVersion(ClassLoader loader, String groupId, String artifactId) {
        URL url = loader.getResource("META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties");
        if (url == null) {
            return null;
        }
        Properties p = new Properties();
        try (InputStream in = url.openStream()) {
            p.load(in);
        } catch (IOException e) {
            return null;
        }
        return p.getProperty("version");
    }

    /** The directory natives are extracted under: {@value #CACHE_PROPERTY}, else a per-user temp folder. */
    static Path cacheRoot() {
        String configured = System.getProperty(CACHE_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        return Path.of(System.getProperty("java.io.tmpdir"), "mpt-native-" + user);
    }

    private static Path extract(URL url, Path target) throws IOException {
        URLConnection connection = url.openConnection();
        long size = connection.getContentLengthLong();
        if (size >= 0 && Files.isRegularFile(target) && Files.size(target) == size) {
            return target;
        }
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
        try {
            try (InputStream in = connection.getInputStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | UncheckedIOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return target;
    }
}
