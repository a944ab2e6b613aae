package dev.mpt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.Tensor;
import dev.mpt.nn.Flatten;
import dev.mpt.nn.Linear;
import dev.mpt.nn.Sequential;
import dev.mpt.optim.train.Trainer;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the README's code from drifting away from the API: every {@code ```java} block of the
 * top-level README.md is compiled (javax.tools, against mpt's jars) as the body of a method, under
 * a fixed set of imports, and run. An HTML comment on the line before a block adjusts it:
 * {@code <!-- snippet given: declarations -->} puts declarations (the block's context, such as a
 * model) before the body; {@code <!-- snippet: compile only (reason) -->} compiles without running
 * (data that may be absent, minutes of training). The README's {@code pom.xml} must equal
 * {@code samples/downstream/pom.xml}, which the build runs as a user project, and the summary table
 * shown must be what {@code summary} prints.
 */
class ReadmeSnippetsTest {

    private static final Path README = Path.of("..", "README.md");

    private static final String IMPORTS = Stream.of(
            "dev.mpt.core.*", "dev.mpt.core.number.*", "dev.mpt.core.random.*",
            "dev.mpt.nn.*", "dev.mpt.nn.Module", "dev.mpt.nn.data.*", "dev.mpt.nn.eval.*", "dev.mpt.nn.loss.*",
            "dev.mpt.nn.checkpoint.*", "dev.mpt.optim.*", "dev.mpt.optim.amp.*", "dev.mpt.optim.scaling.*",
            "dev.mpt.optim.train.*", "dev.mpt.optim.parallel.*", "java.nio.file.Path", "java.util.List")
            .map(i -> "import " + i + ";\n").collect(Collectors.joining());

    /** One code block: its body, its given declarations, whether to run it, its README line. */
    record Snippet(String body, String given, boolean run, int line) {
    }

    static List<Snippet> snippets(List<String> lines) {
        List<Snippet> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).strip().equals("```java")) {
                continue;
            }
            String before = i > 0 ? lines.get(i - 1).strip() : "";
            String given = "";
            boolean run = true;
            if (before.startsWith("<!-- snippet given:")) {
                given = before.substring("<!-- snippet given:".length(), before.length() - "-->".length());
            } else if (before.startsWith("<!-- snippet: compile only")) {
                run = false;
            }
            StringBuilder body = new StringBuilder();
            int j = i + 1;
            for (; !lines.get(j).strip().equals("```"); j++) {
                body.append(lines.get(j)).append('\n');
            }
            out.add(new Snippet(body.toString(), given, run, i + 1));
            i = j;
        }
        return out;
    }

    @Test
    void everyJavaBlockCompilesAndRuns(@TempDir Path tmp) throws Exception {
        List<Snippet> snippets = snippets(Files.readAllLines(README, StandardCharsets.UTF_8));
        assertTrue(snippets.size() >= 5, "found only " + snippets.size() + " java blocks in " + README);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<Path> sources = new ArrayList<>();
        for (int k = 0; k < snippets.size(); k++) {
            Snippet s = snippets.get(k);
            Path src = tmp.resolve("src/readme/Snippet" + k + ".java");
            Files.createDirectories(src.getParent());
            Files.writeString(src, "package readme;\n" + IMPORTS + "public final class Snippet" + k + " {\n"
                    + "    /** README.md line " + s.line() + " */\n"
                    + "    public static void run() throws Exception {\n" + s.given() + "\n" + s.body() + "    }\n}\n");
            sources.add(src);
        }
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
            List<String> options = List.of("-d", classes.toString(), "-cp", classPath(), "-proc:none",
                    "--add-modules", "jdk.incubator.vector", "-Xlint:none");
            boolean ok = javac.getTask(null, files, diagnostics, options, null, files.getJavaFileObjectsFromPaths(sources)).call();
            String report = diagnostics.getDiagnostics().stream()
                    .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                    .map(d -> readmeLine(d, snippets) + ": " + d.getMessage(Locale.ROOT))
                    .collect(Collectors.joining("\n"));
            assertTrue(ok, "README snippets do not compile:\n" + report);
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            for (int k = 0; k < snippets.size(); k++) {
                if (!snippets.get(k).run()) {
                    continue;
                }
                try {
                    loader.loadClass("readme.Snippet" + k).getMethod("run").invoke(null);
                } catch (InvocationTargetException e) {
                    throw new AssertionError("README snippet at line " + snippets.get(k).line() + " failed", e.getCause());
                }
            }
        }
    }

    /** The README line of a compile error (the generated file's line minus the prelude). */
    private static String readmeLine(Diagnostic<? extends JavaFileObject> d, List<Snippet> snippets) {
        String name = d.getSource() == null ? "" : d.getSource().getName();
        int k = Integer.parseInt(name.replaceAll(".*Snippet(\\d+)\\.java$", "$1"));
        long prelude = IMPORTS.lines().count() + 5;
        return "README.md line " + (snippets.get(k).line() + d.getLineNumber() - prelude) + " (snippet " + k + ")";
    }

    /** mpt's jars (or class directories) and slf4j, wherever this test's class path has them. */
    private static String classPath() {
        return Stream.of(Tensor.class, Linear.class, Trainer.class, org.slf4j.Logger.class)
                .map(c -> {
                    try {
                        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
                    } catch (Exception e) {
                        throw new IllegalStateException("cannot locate " + c, e);
                    }
                })
                .collect(Collectors.joining(File.pathSeparator));
    }

    @Test
    void thePomShownIsTheSampleProjectsPom() throws IOException {
        String readme = Files.readString(README);
        String pom = Files.readString(Path.of("..", "samples", "downstream", "pom.xml"));
        assertTrue(readme.contains("```xml\n" + pom + "```\n"),
                "README.md's 'Use mpt in your project' must show samples/downstream/pom.xml verbatim");
    }

    @Test
    void theSummaryShownIsWhatSummaryPrints() throws IOException {
        String readme = Files.readString(README);
        String marker = "prints a Keras-style table:\n\n```\n";
        int start = readme.indexOf(marker);
        assertTrue(start >= 0, "README.md lost its summary example");
        start += marker.length();
        String shown = readme.substring(start, readme.indexOf("```", start));
        String printed = new Sequential(new Flatten(), new Linear(64, 10, 1)).summary(1, 1, 8, 8) + "\n";
        assertEquals(shown, printed);
    }
}
