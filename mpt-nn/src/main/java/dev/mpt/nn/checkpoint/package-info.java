/**
 * Checkpoint files: the safetensors format ({@link dev.mpt.nn.checkpoint.Safetensors}) that moves
 * FP32, FP16 and BF16 weights to and from the Python ecosystem, its in-memory entries
 * ({@link dev.mpt.nn.checkpoint.NamedTensor}), an open file read header first and tensor by tensor
 * ({@link dev.mpt.nn.checkpoint.SafetensorsReader}), crash-safe replacement of a file
 * ({@link dev.mpt.nn.checkpoint.AtomicFile}), and a module's state saved and loaded by dotted name
 * ({@link dev.mpt.nn.checkpoint.Checkpoints}) with the loading choices PyTorch's
 * {@code load_state_dict} offers ({@link dev.mpt.nn.checkpoint.LoadOptions}: strictness and
 * {@link dev.mpt.nn.checkpoint.Conversion} of dtypes) and what a non-strict load left out
 * ({@link dev.mpt.nn.checkpoint.LoadResult}); a {@link dev.mpt.nn.Gpt} under nanoGPT's state-dict
 * names ({@link dev.mpt.nn.checkpoint.NanoGpt}).
 */
package dev.mpt.nn.checkpoint;
