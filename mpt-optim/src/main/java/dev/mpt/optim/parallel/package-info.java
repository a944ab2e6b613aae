/**
 * Data-parallel training: ranks (threads, processes or machines) each compute the gradients of
 * their micro-batch; a deterministic {@link dev.mpt.optim.parallel.Collective} sums them shard by
 * shard in rank order, the owner of each shard updates its FP32 masters, and the new 16-bit weights
 * are gathered back, so the result does not depend on timing.
 *
 * <ul>
 *   <li>{@link dev.mpt.optim.parallel.Collective}: reduce-scatter, all-gather and the all-ranks
 *       overflow decision; {@link dev.mpt.optim.parallel.Shards}: which rank owns which elements;
 *       {@link dev.mpt.optim.parallel.CollectiveException}: a failed call, naming the rank at
 *       fault.</li>
 *   <li>{@link dev.mpt.optim.parallel.InProcessCollective}: ranks as threads of one JVM;
 *       {@link dev.mpt.optim.parallel.MeteredCollective}: counts the bytes a wire would carry.</li>
 *   <li>{@link dev.mpt.optim.parallel.TcpCollective}: ranks as processes, a full mesh over
 *       {@code java.nio}; its package-private parts: {@code Mesh} (connecting, accepting, the
 *       rendezvous at rank 0), {@code Handshake} (HMAC-SHA256 mutual authentication),
 *       {@code Exchange} (one round of frames with every peer, deadlines, ABORT on failure) and
 *       {@code Frame} (the wire format and its checks).
 *       {@link dev.mpt.optim.parallel.JobSecret}: the per-job secret.</li>
 *   <li>{@link dev.mpt.optim.parallel.DataParallelOptimizer}: one rank's mixed-precision step with
 *       ZeRO stage 1 (masters and optimizer state sharded); {@code ShardLayout}: the flat,
 *       block-aligned layout of the parameters and its shards; {@code ReplicaBuffers}: the
 *       replicas' BatchNorm statistics, put back on a skipped step and copied from rank 0.</li>
 *   <li>{@link dev.mpt.optim.parallel.DataParallel}: the in-process launcher
 *       ({@code workers(N).run(factory, body)}); {@link dev.mpt.optim.parallel.ProcessLauncher}:
 *       N local JVMs as one job.</li>
 *   <li>{@link dev.mpt.optim.parallel.ShardedCheckpoint}: one safetensors file per rank, resumable
 *       with another number of ranks.</li>
 * </ul>
 */
package dev.mpt.optim.parallel;
