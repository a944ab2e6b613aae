package dev.mpt.nn.checkpoint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a load did not match (PyTorch's {@code _IncompatibleKeys}), and the file's metadata. Both
 * lists are empty after a strict load, which refuses any mismatch instead.
 *
 * @param missingKeys    the module's parameters and buffers with no key in the state, in the
 *                       module's order; they kept their values
 * @param unexpectedKeys keys of the state with no slot in the module, in the state's order; skipped
 * @param metadata       the file's string metadata; empty when loading a map
 */
public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys, Map<String, String> metadata) {

    /** Copies the lists and the map (unmodifiable; the map keeps its order). */
    public LoadResult {
        missingKeys = List.copyOf(missingKeys);
        unexpectedKeys = List.copyOf(unexpectedKeys);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }
}
