/**
 * Learning-rate schedules: pure functions from the step number to the learning rate, composable
 * (a linear warm-up in front of any other schedule).
 */
package dev.mpt.optim.schedule;
