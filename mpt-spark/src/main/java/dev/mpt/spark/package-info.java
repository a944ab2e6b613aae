/**
 * Data-parallel training launched by Apache Spark: {@link dev.mpt.spark.SparkDataParallel} runs
 * one barrier task per rank, exchanges their addresses once, and hands each a
 * {@link dev.mpt.optim.parallel.TcpCollective}. Spark is a {@code provided} dependency: the cluster
 * brings it.
 */
package dev.mpt.spark;
