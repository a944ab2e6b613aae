/**
 * Tools around mpt's reverse-mode autograd: {@link dev.mpt.core.autograd.GradCheck}, the
 * finite-difference gradient checker that op and layer tests share.
 */
package dev.mpt.core.autograd;
