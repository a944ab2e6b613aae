/**
 * Test tools that ship in the main jar so users can check their own ops and modules:
 * {@link dev.mpt.core.testing.GradCheck}, the finite-difference gradient checker that mpt's op and
 * layer tests share, and {@link dev.mpt.core.testing.ThreadInvariance}, which runs a computation
 * on 1, 2, 3 and 7 kernel threads and requires the same bits (the harness behind mpt's
 * thread-count promise, shared by the core, nn and optim tests).
 */
package dev.mpt.core.testing;
