/**
 * JMH benchmarks of mpt's kernels and training steps, each measured beside a peer or a ceiling in
 * the same run, and the peer benchmark against PyTorch.
 *
 * <p>Kernels: {@code PeakFlopsBenchmark} (the machine's FP32 FMA ceiling), {@code ConvertBenchmark}
 * (bulk conversions against {@code System.arraycopy}), {@code GemmBenchmark} (square GEMM against
 * EJML), {@code GemmShapesBenchmark} (the example models' skinny GEMMs), {@code GemmBackendBenchmark}
 * (the Java kernels against oneDNN), {@code ConvBenchmark}, {@code TensorOpsBenchmark} (an MLP
 * step's point-wise ops) and {@code AttentionMemory} (the bytes an attention pass allocates);
 * {@code SetupCheck} holds the checks their setups make of the results they time.
 *
 * <p>Training steps of the examples' models: {@code TrainingStepBenchmark} (the MLP),
 * {@code FashionCnnStepBenchmark} and {@code CharLstmStepBenchmark}. {@code PeerBenchmark} runs
 * them, with GEMM and the ceiling, against the PyTorch timings of
 * {@code mpt-bench/peer/torch_steps.py} and prints both with their ratios
 * ({@code mpt-bench/peer/run.sh} runs the two back to back).
 */
package dev.mpt.bench;
