/**
 * Checkpoint files: the safetensors format ({@link dev.mpt.nn.checkpoint.Safetensors}) that moves
 * FP32, FP16 and BF16 weights to and from the Python ecosystem, its in-memory entries
 * ({@link dev.mpt.nn.checkpoint.NamedTensor}), and crash-safe replacement of a file
 * ({@link dev.mpt.nn.checkpoint.AtomicFile}).
 */
package dev.mpt.nn.checkpoint;
