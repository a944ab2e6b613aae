package dev.mpt.optim;

import dev.mpt.optim.schedule.LearningRateSchedule;

import java.util.List;
import java.util.Objects;

/**
 * Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay; the update
 * rule and its precision are those of {@link SgdRule}. State: one FP32 momentum buffer per
 * parameter when {@code momentum > 0}, none otherwise.
 *
 * @param schedule the learning rate per applied step
 * @param rule     momentum, dampening, weight decay and Nesterov flag
 */
public record Sgd(LearningRateSchedule schedule, SgdRule rule) implements Optimizer {

    /** Validates that both parts are present. */
    public Sgd {
        Objects.requireNonNull(schedule, "Sgd: schedule is null");
        Objects.requireNonNull(rule, "Sgd: rule is null");
    }

    /** Plain SGD with learning rate {@code lr}, no momentum. */
    public Sgd(double lr) {
        this(LearningRateSchedule.constant(lr), SgdRule.of(0));
    }

    /** SGD with learning rate {@code lr} and momentum {@code momentum} (PyTorch semantics). */
    public Sgd(double lr, double momentum) {
        this(LearningRateSchedule.constant(lr), SgdRule.of(momentum));
    }

    /** SGD with every hyper-parameter; dampening 0. */
    public Sgd(double lr, double momentum, double weightDecay, boolean nesterov) {
        this(LearningRateSchedule.constant(lr), new SgdRule(momentum, 0, weightDecay, nesterov));
    }

    @Override
    public Sgd withSchedule(LearningRateSchedule schedule) {
        return new Sgd(schedule, rule);
    }

    @Override
    public List<String> stateNames() {
        return rule.momentum() == 0 ? List.of() : List.of("momentum");
    }

    @Override
    public void apply(double lr, long step, float[] param, float[] grad, float[][] state, int off, int len) {
        RuleChecks.stateCount("Sgd.apply", state, stateNames().size());
        rule.apply(lr, step, param, grad, state.length == 0 ? null : state[0], off, len);
    }

    @Override
    public String toString() {
        return "Sgd[lr=" + ScheduleText.describe(schedule) + ", momentum=" + rule.momentum() + ", dampening="
                + rule.dampening() + ", weightDecay=" + rule.weightDecay() + ", nesterov=" + rule.nesterov() + "]";
    }
}
