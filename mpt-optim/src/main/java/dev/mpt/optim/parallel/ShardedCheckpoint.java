package dev.mpt.optim.parallel;

import dev.mpt.core.number.DType;
import dev.mpt.nn.checkpoint.NamedTensor;
import dev.mpt.nn.checkpoint.Safetensors;
import dev.mpt.nn.checkpoint.SafetensorsReader;
import dev.mpt.optim.scaling.LossScaler;
import dev.mpt.optim.scaling.ScalerState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoints of a {@link DataParallelOptimizer}: each rank writes its own shard to
 * {@code dir/shard-RRRRR-of-NNNNN.safetensors}, and every rank of a job, of the same or of another
 * world size, reads back the parts it owns.
 *
 * <p>A file holds, for its rank's element range of each group (16-bit parameters, FP32
 * parameters; see {@link DataParallelOptimizer#shards()}), FP32 tensors {@code master.16bit},
 * {@code master.fp32} and {@code state.<stateName>.16bit}, {@code state.<stateName>.fp32}
 * (flat, as long as the shard), and metadata: {@code dp.rank}, {@code dp.worldSize},
 * {@code dp.bounds.16bit} and {@code dp.bounds.fp32} (the shard bounds of every rank),
 * {@code dp.parameters} (name, shape and dtype of each parameter in order), {@code precision},
 * {@code optimizer} (informative), {@code appliedSteps}, {@code attemptedSteps},
 * {@code steps.<name>} per parameter and {@code scaler.<key>} ({@link ScalerState#toMap()}).
 * Rank 0's file also holds the replica's buffers as {@code buffer.<name>} (every replica has rank
 * 0's after each step). The 16-bit weights are not stored: they are the masters rounded (in the
 * no-master ablation, the stored values are the weights widened, which round back to them).
 *
 * <p>What may change between save and load: the number of ranks (the flat layout does not depend
 * on it; each new owner copies its range from the files that overlap it), the optimizer's
 * hyper-parameters and schedule. What must not: the parameters (names, shapes, order), the
 * precision, the optimizer's kind of state. Every rank's file must be present, from one save (the
 * step counters must agree), and each checkpoint needs its own directory.
 */
public final class ShardedCheckpoint {

    private static final Pattern FILE = Pattern.compile("shard-(\\d{5})-of-(\\d{5})\\.safetensors");
    private static final String[] GROUPS = {"16bit", "fp32"};

    private ShardedCheckpoint() {
    }

    /** The file rank {@code rank} of {@code world} writes in {@code dir}. */
    public static Path file(Path dir, int rank, int world) {
        return dir.resolve(String.format("shard-%05d-of-%05d.safetensors", rank, world));
    }

    /**
     * Writes this rank's shard into {@code dir} (created if missing), replacing the file
     * atomically. Every rank calls it after the same step; no collective call is made.
     *
     * @return the file written
     */
    public static Path save(Path dir, DataParallelOptimizer opt) throws IOException {
        Objects.requireNonNull(dir, "ShardedCheckpoint.save: dir is null");
        Objects.requireNonNull(opt, "ShardedCheckpoint.save: optimizer is null");
        Files.createDirectories(dir);
        ShardLayout layout = opt.layout();
        List<String> stateNames = opt.optimizer().stateNames();
        List<NamedTensor> tensors = new ArrayList<>();
        Map<String, String> meta = new LinkedHashMap<>();
        DataParallelOptimizer.Shard[] shards = {opt.shard16(), opt.shard32()};
        for (int g = 0; g < 2; g++) {
            var s = shards[g];
            tensors.add(NamedTensor.ofFloats("master." + GROUPS[g], new int[] {s.len}, s.master.clone()));
            for (int k = 0; k < stateNames.size(); k++) {
                tensors.add(NamedTensor.ofFloats("state." + stateNames.get(k) + "." + GROUPS[g], new int[] {s.len},
                        s.state[k].clone()));
            }
            meta.put("dp.bounds." + GROUPS[g], join(s.group.shards.bounds()));
        }
        if (opt.rank() == 0) {
            ReplicaBuffers b = opt.buffers();
            float[] values = b.values();
            int at = 0;
            for (var e : b.shapes().entrySet()) {
                int n = numel(e.getValue());
                tensors.add(NamedTensor.ofFloats("buffer." + e.getKey(), e.getValue(),
                        Arrays.copyOfRange(values, at, at + n)));
                at += n;
            }
        }
        meta.put("dp.rank", Integer.toString(opt.rank()));
        meta.put("dp.worldSize", Integer.toString(opt.worldSize()));
        meta.put("dp.parameters", layout.signature());
        meta.put("dp.stateNames", String.join(",", stateNames));
        meta.put("precision", opt.precision().name());
        meta.put("optimizer", opt.optimizer().toString());
        meta.put("appliedSteps", Long.toString(opt.appliedSteps()));
        meta.put("attemptedSteps", Long.toString(opt.attemptedSteps()));
        long[] steps = opt.stepCounts();
        for (int i = 0; i < steps.length; i++) {
            meta.put("steps." + layout.entries.get(i).name(), Long.toString(steps[i]));
        }
        opt.lossScaler().state().toMap().forEach((k, v) -> meta.put("scaler." + k, v));
        Path f = file(dir, opt.rank(), opt.worldSize());
        Safetensors.write(f, tensors, meta);
        return f;
    }

    /**
     * Restores {@code opt} from the checkpoint in {@code dir}, written by any number of ranks:
     * this rank reads the parts of its shards from the files that hold them, and the ranks then
     * exchange the rounded masters so every replica gets the saved weights. Every rank must call
     * it; it clears the gradients and starts a new step.
     *
     * @throws IOException              if a file cannot be read
     * @throws IllegalArgumentException if the directory holds no checkpoint, shards of several
     *                                  world sizes, misses a rank's file, or the checkpoint was
     *                                  written for other parameters, another precision or optimizer
     *                                  state, or holds non-finite values
     */
    public static void load(Path dir, DataParallelOptimizer opt) throws IOException {
        Objects.requireNonNull(dir, "ShardedCheckpoint.load: dir is null");
        Objects.requireNonNull(opt, "ShardedCheckpoint.load: optimizer is null");
        List<Path> files = findFiles(dir);
        ShardLayout layout = opt.layout();
        List<String> stateNames = opt.optimizer().stateNames();
        List<SafetensorsReader> readers = new ArrayList<>();
        try {
            for (Path f : files) {
                readers.add(Safetensors.open(f));
            }
            Map<String, String> meta0 = readers.get(0).metadata();
            long applied = count(meta0, "appliedSteps", files.get(0));
            long attempted = count(meta0, "attemptedSteps", files.get(0));
            for (int r = 0; r < readers.size(); r++) {
                Map<String, String> m = readers.get(r).metadata();
                Path f = files.get(r);
                expect(m, "dp.rank", Integer.toString(r), f);
                expect(m, "dp.parameters", layout.signature(), f);
                expect(m, "precision", opt.precision().name(), f);
                expect(m, "dp.stateNames", String.join(",", stateNames), f);
                sameSave(m, "appliedSteps", Long.toString(applied), f);
                sameSave(m, "attemptedSteps", Long.toString(attempted), f);
            }
            long[] steps = new long[layout.entries.size()];
            for (int i = 0; i < steps.length; i++) {
                steps[i] = count(meta0, "steps." + layout.entries.get(i).name(), files.get(0));
            }
            Map<String, String> scaler = new LinkedHashMap<>();
            meta0.forEach((k, v) -> {
                if (k.startsWith("scaler.")) {
                    scaler.put(k.substring("scaler.".length()), v);
                }
            });
            LossScaler restoredScaler = opt.lossScaler().restore(ScalerState.fromMap(scaler));
            DataParallelOptimizer.Shard[] shards = {opt.shard16(), opt.shard32()};
            float[][] masters = new float[2][];
            float[][][] states = new float[2][stateNames.size()][];
            for (int g = 0; g < 2; g++) {
                Shards old = bounds(meta0, g, files.size(), shards[g].group.total, files.get(0));
                var s = shards[g];
                masters[g] = copyRange(readers, old, "master." + GROUPS[g], s.lo, s.len);
                for (int k = 0; k < stateNames.size(); k++) {
                    states[g][k] = copyRange(readers, old, "state." + stateNames.get(k) + "." + GROUPS[g], s.lo, s.len);
                }
            }
            float[] buffers = readBuffers(readers.get(0), opt.buffers(), files.get(0));
            for (int g = 0; g < 2; g++) {                   // everything read and checked: install
                System.arraycopy(masters[g], 0, shards[g].master, 0, shards[g].len);
                for (int k = 0; k < stateNames.size(); k++) {
                    System.arraycopy(states[g][k], 0, shards[g].state[k], 0, shards[g].len);
                }
            }
            opt.buffers().set(buffers);
            opt.restored(applied, attempted, restoredScaler, steps);
        } finally {
            for (SafetensorsReader r : readers) {
                r.close();
            }
        }
    }

    /** The files of one save: every rank of one world size, in rank order. */
    private static List<Path> findFiles(Path dir) throws IOException {
        TreeMap<Integer, TreeMap<Integer, Path>> byWorld = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Matcher m = FILE.matcher(p.getFileName().toString());
                if (m.matches()) {
                    byWorld.computeIfAbsent(Integer.parseInt(m.group(2)), w -> new TreeMap<>())
                            .put(Integer.parseInt(m.group(1)), p);
                }
            }
        }
        if (byWorld.isEmpty()) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: no shard-*-of-*.safetensors files in " + dir);
        }
        if (byWorld.size() > 1) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + dir + " holds shards of several world "
                    + "sizes " + byWorld.keySet() + "; save each checkpoint into its own directory");
        }
        int world = byWorld.firstKey();
        TreeMap<Integer, Path> ranks = byWorld.firstEntry().getValue();
        for (int r = 0; r < world; r++) {
            if (!ranks.containsKey(r)) {
                throw new IllegalArgumentException("ShardedCheckpoint.load: " + dir + " misses "
                        + file(dir, r, world).getFileName() + " (rank " + r + " of " + world + ")");
            }
        }
        if (ranks.size() != world) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + dir + " holds files for ranks "
                    + ranks.keySet() + " of a world of " + world);
        }
        return List.copyOf(ranks.values());
    }

    /** The saved bounds of group {@code g}, checked to partition {@code total} among {@code world} ranks. */
    private static Shards bounds(Map<String, String> meta, int g, int world, int total, Path f) {
        String key = "dp.bounds." + GROUPS[g];
        String v = meta.get(key);
        if (v == null) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + " misses metadata '" + key + "'");
        }
        int[] b;
        try {
            b = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + ": '" + key + "' is not a list of "
                    + "offsets: '" + v + "'", e);
        }
        if (b.length != world + 1 || b[world] != total) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + ": '" + key + "' = " + v + " does not "
                    + "split " + total + " elements among " + world + " ranks");
        }
        return new Shards(b);
    }

    /**
     * Elements {@code [lo, lo + len)} of the flat tensor {@code name}, stored by rank {@code r} as
     * its part {@code [old.start(r), old.end(r))}, gathered from every file that overlaps them.
     */
    private static float[] copyRange(List<SafetensorsReader> readers, Shards old, String name, int lo, int len)
            throws IOException {
        float[] out = new float[len];
        for (int r = 0; r < readers.size(); r++) {
            int from = Math.max(lo, old.start(r));
            int to = Math.min(lo + len, old.end(r));
            if (from >= to) {
                continue;
            }
            SafetensorsReader reader = readers.get(r);
            if (!reader.contains(name)) {
                throw new IllegalArgumentException("ShardedCheckpoint.load: " + reader.file() + " misses tensor '" + name
                        + "'");
            }
            NamedTensor t = reader.read(name);
            if (t.dtype() != DType.FP32 || !Arrays.equals(t.shape(), new int[] {old.length(r)})) {
                throw new IllegalArgumentException("ShardedCheckpoint.load: " + reader.file() + ": tensor '" + name
                        + "' is " + t.dtype() + Arrays.toString(t.shape()) + ", expected FP32[" + old.length(r) + "]");
            }
            float[] v = t.floats();
            for (int i = from; i < to; i++) {
                float x = v[i - old.start(r)];
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("ShardedCheckpoint.load: " + reader.file() + ": tensor '" + name
                            + "' holds " + x + " at index " + (i - old.start(r)) + "; masters and state must be finite");
                }
                out[i - lo] = x;
            }
        }
        return out;
    }

    private static float[] readBuffers(SafetensorsReader reader, ReplicaBuffers buffers, Path f) throws IOException {
        List<float[]> parts = new ArrayList<>();
        int total = 0;
        for (var e : buffers.shapes().entrySet()) {
            String name = "buffer." + e.getKey();
            if (!reader.contains(name)) {
                throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + " misses tensor '" + name + "'");
            }
            NamedTensor t = reader.read(name);
            if (t.dtype() != DType.FP32 || !Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + ": tensor '" + name + "' is "
                        + t.dtype() + Arrays.toString(t.shape()) + ", expected FP32" + Arrays.toString(e.getValue()));
            }
            parts.add(t.floats());
            total += t.numel();
        }
        float[] out = new float[total];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static void expect(Map<String, String> meta, String key, String want, Path f) {
        String v = meta.get(key);
        if (!want.equals(v)) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + ": '" + key + "' is "
                    + (v == null ? "missing" : "'" + v + "'") + ", this optimizer needs '" + want + "'");
        }
    }

    /** A counter that every file of one save holds alike. */
    private static void sameSave(Map<String, String> meta, String key, String rankZero, Path f) {
        String v = meta.get(key);
        if (!rankZero.equals(v)) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + ": '" + key + "' is "
                    + (v == null ? "missing" : "'" + v + "'") + " but rank 0's file has '" + rankZero + "'; the files "
                    + "come from different saves");
        }
    }

    private static long count(Map<String, String> meta, String key, Path f) {
        String v = meta.get(key);
        long n = -1;
        if (v != null) {
            try {
                n = Long.parseLong(v);
            } catch (NumberFormatException e) {
                n = -1;
            }
        }
        if (n < 0) {
            throw new IllegalArgumentException("ShardedCheckpoint.load: " + f + ": '" + key + "' is not a count: " + v);
        }
        return n;
    }

    private static String join(int[] a) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.length; i++) {
            sb.append(i == 0 ? "" : ",").append(a[i]);
        }
        return sb.toString();
    }

    private static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
