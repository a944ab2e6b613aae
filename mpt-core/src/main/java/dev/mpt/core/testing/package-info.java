/**
 * Test tools that ship in the main jar so users can check their own ops and modules:
 * {@link dev.mpt.core.testing.GradCheck}, the finite-difference gradient checker that mpt's op and
 * layer tests share.
 */
package dev.mpt.core.testing;
