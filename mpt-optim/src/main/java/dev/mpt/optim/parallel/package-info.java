/**
 * Data-parallel training: ranks (threads, processes or machines) each compute the gradients of
 * their micro-batch; a deterministic {@link dev.mpt.optim.parallel.Collective} sums them shard by
 * shard in rank order, the owner of each shard updates its FP32 masters, and the new 16-bit weights
 * are gathered back, so the result does not depend on timing.
 *
 * <ul>
 *   <li>{@link dev.mpt.optim.parallel.Collective}: reduce-scatter, all-gather and the all-ranks
 *       overflow decision; {@link dev.mpt.optim.parallel.Shards}: which rank owns which elements.</li>
 *   <li>{@link dev.mpt.optim.parallel.InProcessCollective}: ranks as threads of one JVM.</li>
 * </ul>
 */
package dev.mpt.optim.parallel;
