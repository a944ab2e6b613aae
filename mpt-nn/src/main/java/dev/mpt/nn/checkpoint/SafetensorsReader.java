package dev.mpt.nn.checkpoint;

import dev.mpt.core.number.DType;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An open safetensors file whose header has been read and checked, and whose tensors are read one
 * at a time on request, like Python's {@code safetensors.safe_open}:
 *
 * <pre>{@code
 * try (SafetensorsReader r = Safetensors.open(path)) {
 *     // check r.names(), r.dtype(name), r.shape(name) against what the file must fit
 *     NamedTensor w = r.read("0.weight");          // reads only this tensor's bytes
 * }
 * }</pre>
 *
 * <p>{@link Safetensors#open} has already checked the whole header (names, dtypes, shapes, and
 * offsets that tile the file), so a file that does not fit can be rejected before any tensor data
 * is read or allocated. Not thread-safe; close it to release the file.
 */
public final class SafetensorsReader implements Closeable {

    private final Path file;
    private final FileChannel channel;
    private final Map<String, String> metadata;
    private final Map<String, Safetensors.Entry> entries;
    private final long dataStart;

    /** Takes ownership of {@code channel}; {@code entries} in file order, checked by {@link Safetensors#open}. */
    SafetensorsReader(Path file, FileChannel channel, Map<String, String> metadata,
            Map<String, Safetensors.Entry> entries, long dataStart) {
        this.file = file;
        this.channel = channel;
        this.metadata = metadata;
        this.entries = entries;
        this.dataStart = dataStart;
    }

    /** The file this reads. */
    public Path file() {
        return file;
    }

    /** The {@code __metadata__} map (empty when the file has none); unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor names in the order of their data in the file. */
    public List<String> names() {
        return new ArrayList<>(entries.keySet());
    }

    /** Whether the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return entries.containsKey(Objects.requireNonNull(name, "name"));
    }

    /** The dtype the header declares for tensor {@code name}. */
    public DType dtype(String name) {
        return entry(name).dtype();
    }

    /** The shape the header declares for tensor {@code name} (a copy). */
    public int[] shape(String name) {
        return entry(name).shape().clone();
    }

    /**
     * Reads tensor {@code name}'s elements.
     *
     * @throws IllegalArgumentException when the file holds no such tensor (the message lists the names)
     * @throws IOException              when reading fails or the file was cut short since it was opened
     */
    public NamedTensor read(String name) throws IOException {
        return Safetensors.readTensor(channel, entry(name), dataStart, file);
    }

    /** Reads every tensor, in file order. */
    public SafetensorsFile readAll() throws IOException {
        List<NamedTensor> tensors = new ArrayList<>(entries.size());
        for (Safetensors.Entry e : entries.values()) {
            tensors.add(Safetensors.readTensor(channel, e, dataStart, file));
        }
        return new SafetensorsFile(metadata, tensors);
    }

    private Safetensors.Entry entry(String name) {
        Safetensors.Entry e = entries.get(Objects.requireNonNull(name, "name"));
        if (e == null) {
            throw new IllegalArgumentException("SafetensorsReader: no tensor '" + name + "' in " + file + "; it holds "
                    + entries.keySet());
        }
        return e;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
