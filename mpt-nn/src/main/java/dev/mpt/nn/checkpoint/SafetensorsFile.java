package dev.mpt.nn.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The content of a safetensors file: its string metadata and its tensors in file order.
 *
 * @param metadata the {@code __metadata__} map (empty when the file has none); unmodifiable
 * @param tensors  the tensors in the order of their data in the file; unmodifiable, names unique
 */
public record SafetensorsFile(Map<String, String> metadata, List<NamedTensor> tensors) {

    /** Copies both collections and validates that no value is null and names are unique. */
    public SafetensorsFile {
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(tensors, "tensors");
        Map<String, String> m = new LinkedHashMap<>();
        metadata.forEach((k, v) -> m.put(Objects.requireNonNull(k, "metadata key"),
                Objects.requireNonNull(v, () -> "metadata value of key '" + k + "'")));
        metadata = Collections.unmodifiableMap(m);
        tensors = List.copyOf(tensors);
        Set<String> names = new HashSet<>();
        for (NamedTensor t : tensors) {
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("SafetensorsFile: duplicate tensor name '" + t.name() + "'");
            }
        }
    }

    /** The tensor called {@code name}, if there is one. */
    public Optional<NamedTensor> find(String name) {
        Objects.requireNonNull(name, "name");
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /**
     * The tensor called {@code name}.
     *
     * @throws IllegalArgumentException when there is none (the message lists the names there are)
     */
    public NamedTensor tensor(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException("SafetensorsFile: no tensor '" + name
                + "'; the file holds " + names()));
    }

    /** The tensor names in file order. */
    public List<String> names() {
        List<String> n = new ArrayList<>(tensors.size());
        tensors.forEach(t -> n.add(t.name()));
        return n;
    }
}
