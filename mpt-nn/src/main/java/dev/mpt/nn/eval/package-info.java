/**
 * Inference and classification metrics: {@link dev.mpt.nn.eval.Predictor} runs a trained model in
 * evaluation mode without a graph, batch by batch, and returns logits, probabilities or classes;
 * {@link dev.mpt.nn.eval.ConfusionMatrix} gives per-class precision, recall and F1;
 * {@link dev.mpt.nn.eval.TopK} counts top-k hits.
 */
package dev.mpt.nn.eval;
