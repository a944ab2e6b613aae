/**
 * JMH benchmarks of mpt's kernels and training steps, each with the peer it is compared with in
 * the same run: the machine's FP32 ceiling ({@code PeakFlopsBenchmark}), conversions against
 * {@code System.arraycopy}, GEMM against EJML, and convolution; whole training steps of the
 * examples' models ({@code TrainingStepBenchmark}, {@code FashionCnnStepBenchmark},
 * {@code CharLstmStepBenchmark}); and {@code PeerBenchmark}, which runs the benchmarks that
 * {@code mpt-bench/peer/torch_steps.py} mirrors in PyTorch and prints both with their ratios
 * ({@code mpt-bench/peer/run.sh} runs the two back to back).
 */
package dev.mpt.bench;
