package dev.mpt.optim.parallel;

import dev.mpt.core.number.DType;
import dev.mpt.nn.Parameter;
import dev.mpt.optim.GradientClipping;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * How a model's parameters are laid out flat and split among the ranks of a data-parallel step.
 *
 * <p>Two flat vectors ("groups"), parameters in {@link dev.mpt.nn.Module#namedParameters()} order:
 * the 16-bit parameters (FP16 or BF16, exchanged as 2-byte values) and the FP32 ones (all of them
 * in {@link dev.mpt.optim.amp.Precision#FP32}; in mixed precision the normalization layers kept
 * FP32). Each parameter is cut into blocks of {@link GradientClipping#BLOCK} elements from its own
 * start (the last block may be shorter), and each group's {@link Shards} fall on block boundaries:
 * rank {@code r}'s shard starts at the first block boundary at or after {@code floor(r * T / N)},
 * so it holds whole blocks and at most {@code T / N + BLOCK} elements.
 *
 * <p>Why blocks: the global gradient norm is the sum of one partial sum of squares per block
 * ({@link GradientClipping#blockSum}), added block by block within each parameter and parameter by
 * parameter ({@code MasterWeights.gradientNorm}'s order). A block never straddles two ranks, so
 * each owner forms whole partial sums, every rank receives them all in the same order, and the norm
 * is the same bits for every world size.
 */
final class ShardLayout {

    /** One parameter's place: its group and offset there, and its blocks in that group's block list. */
    record Entry(String name, int[] shape, DType dtype, boolean sixteenBit, int offset, int length,
                 int firstBlock, int blockCount) {
    }

    final List<Entry> entries;
    final Group half;
    final Group fp32;
    final int worldSize;

    private ShardLayout(List<Entry> entries, Group half, Group fp32, int worldSize) {
        this.entries = entries;
        this.half = half;
        this.fp32 = fp32;
        this.worldSize = worldSize;
    }

    /**
     * The layout of {@code params} for {@code world} ranks; each parameter is in its group by its
     * current dtype.
     *
     * @throws IllegalArgumentException if the 16-bit parameters mix FP16 and BF16, or a group would
     *                                  exceed {@code Integer.MAX_VALUE} elements
     */
    static ShardLayout of(Map<String, Parameter> params, int world) {
        List<Entry> entries = new ArrayList<>();
        long[] totals = new long[2];
        int[] blocks = new int[2];
        DType sixteen = null;
        for (var e : params.entrySet()) {
            Parameter p = e.getValue();
            DType dt = p.dtype();
            boolean sb = dt != DType.FP32;
            if (sb && sixteen != null && dt != sixteen) {
                throw new IllegalArgumentException("DataParallelOptimizer: parameters mix " + sixteen + " and " + dt
                        + " (parameter '" + e.getKey() + "'); convert the model to one precision");
            }
            if (sb) {
                sixteen = dt;
            }
            int g = sb ? 0 : 1;
            int n = p.value().numel();
            int nb = (n + GradientClipping.BLOCK - 1) / GradientClipping.BLOCK;
            if (totals[g] + n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("DataParallelOptimizer: more than " + Integer.MAX_VALUE + " "
                        + (sb ? "16-bit" : "FP32") + " parameter elements; not supported");
            }
            entries.add(new Entry(e.getKey(), p.shape(), dt, sb, (int) totals[g], n, blocks[g], nb));
            totals[g] += n;
            blocks[g] += nb;
        }
        Group half = Group.of(entries, true, sixteen == null ? DType.FP16 : sixteen, world);
        Group fp32 = Group.of(entries, false, DType.FP32, world);
        return new ShardLayout(List.copyOf(entries), half, fp32, world);
    }

    /** The group an entry lives in. */
    Group group(Entry e) {
        return e.sixteenBit ? half : fp32;
    }

    /**
     * A one-line description of the parameters (name, shape, dtype, in order), the same for every
     * world size: checkpoints compare it before re-sharding.
     */
    String signature() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            if (!sb.isEmpty()) {
                sb.append(';');
            }
            sb.append(e.name).append(Arrays.toString(e.shape).replace(" ", "")).append(e.dtype);
        }
        return sb.toString();
    }

    /**
     * One flat vector: its length, its blocks (start and end offsets, owning entry) and its shards.
     * Rank {@code r} owns blocks {@code [firstBlock(r), firstBlock(r + 1))}.
     */
    static final class Group {
        final DType dtype;
        final int total;
        final int[] blockStart;
        final int[] blockEnd;
        final int[] blockEntry;
        final Shards shards;
        private final int[] rankFirstBlock;

        private Group(DType dtype, int total, int[] blockStart, int[] blockEnd, int[] blockEntry, int world) {
            this.dtype = dtype;
            this.total = total;
            this.blockStart = blockStart;
            this.blockEnd = blockEnd;
            this.blockEntry = blockEntry;
            int nb = blockStart.length;
            int[] bounds = new int[world + 1];
            rankFirstBlock = new int[world + 1];
            int b = 0;
            for (int r = 1; r < world; r++) {
                long target = (long) r * total / world;
                while (b < nb && blockStart[b] < target) {
                    b++;
                }
                rankFirstBlock[r] = b;
                bounds[r] = b < nb ? blockStart[b] : total;
            }
            rankFirstBlock[world] = nb;
            bounds[world] = total;
            this.shards = new Shards(bounds);
        }

        static Group of(List<Entry> entries, boolean sixteenBit, DType dtype, int world) {
            int total = 0;
            int nb = 0;
            for (Entry e : entries) {
                if (e.sixteenBit == sixteenBit) {
                    total += e.length;
                    nb += e.blockCount;
                }
            }
            int[] start = new int[nb];
            int[] end = new int[nb];
            int[] entry = new int[nb];
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                if (e.sixteenBit != sixteenBit) {
                    continue;
                }
                for (int k = 0; k < e.blockCount; k++) {
                    int b = e.firstBlock + k;
                    start[b] = e.offset + k * GradientClipping.BLOCK;
                    end[b] = Math.min(e.offset + e.length, start[b] + GradientClipping.BLOCK);
                    entry[b] = i;
                }
            }
            return new Group(dtype, total, start, end, entry, world);
        }

        /** The first block rank {@code r} owns ({@code r == worldSize} gives the block count). */
        int firstBlock(int r) {
            return rankFirstBlock[r];
        }

        /** The number of blocks rank {@code r} owns. */
        int blockCount(int r) {
            return rankFirstBlock[r + 1] - rankFirstBlock[r];
        }

        /** Whether the group has no elements (no collective call is made for it). */
        boolean isEmpty() {
            return total == 0;
        }
    }
}
