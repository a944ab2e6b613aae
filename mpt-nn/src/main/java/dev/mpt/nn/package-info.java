/**
 * Models as trees of {@link dev.mpt.nn.Module}s: layers whose dot products run in FP16 with FP32
 * accumulation, and normalization layers whose parameters and statistics stay FP32.
 *
 * <ul>
 * <li>Structure: {@link dev.mpt.nn.Module} (parameters, buffers, children, train/eval,
 *     {@code to(DType)}), {@link dev.mpt.nn.Parameter}, {@link dev.mpt.nn.Buffer},
 *     {@link dev.mpt.nn.Sequential}, {@link dev.mpt.nn.Lambda} ({@code Module.of(fn)}).
 * <li>Layers: {@link dev.mpt.nn.Linear}, {@link dev.mpt.nn.Conv2d}, {@link dev.mpt.nn.ConvTranspose2d},
 *     {@link dev.mpt.nn.Embedding}, {@link dev.mpt.nn.Lstm}; {@link dev.mpt.nn.MaxPool2d},
 *     {@link dev.mpt.nn.AvgPool2d}, {@link dev.mpt.nn.Flatten}, {@link dev.mpt.nn.Dropout}.
 * <li>Transformers (nanoGPT's names and layouts): {@link dev.mpt.nn.MultiheadAttention} (fused
 *     {@code c_attn}, {@code c_proj}), {@link dev.mpt.nn.TransformerBlock} (pre-norm),
 *     {@link dev.mpt.nn.Gpt} (learned positions, read-out tied to the token table, weight-decay groups).
 * <li>Activations: {@link dev.mpt.nn.ReLU}, {@link dev.mpt.nn.LeakyReLU}, {@link dev.mpt.nn.GELU},
 *     {@link dev.mpt.nn.Tanh}, {@link dev.mpt.nn.Sigmoid}.
 * <li>Normalization (FP32 parameters and statistics, output in the input's dtype):
 *     {@link dev.mpt.nn.LayerNorm}, {@link dev.mpt.nn.BatchNorm1d}, {@link dev.mpt.nn.BatchNorm2d}.
 * <li>Memory by dtype: {@link dev.mpt.nn.ModelMemory}.
 * </ul>
 *
 * <p>Layers with weights take a seeded {@link java.util.random.RandomGenerator} (or a seed) and
 * initialize like PyTorch (see each class); they require the input in their weights' dtype and
 * say so when it differs.
 */
package dev.mpt.nn;
