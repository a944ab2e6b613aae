/**
 * Data-parallel training launched by Apache Spark:
 * {@link dev.mpt.optim.parallel.spark.SparkDataParallel} runs one barrier task per rank, exchanges
 * their addresses once, and hands each a {@link dev.mpt.optim.parallel.TcpCollective}. Spark is a
 * {@code provided} dependency of mpt-optim: the cluster brings it, and nothing else in mpt loads a
 * Spark class, so users without Spark need none of its jars.
 */
package dev.mpt.optim.parallel.spark;
