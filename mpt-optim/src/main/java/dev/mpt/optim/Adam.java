package dev.mpt.optim;

import dev.mpt.optim.schedule.LearningRateSchedule;

import java.util.List;
import java.util.Objects;

/**
 * Adam with L2 weight decay added to the gradient (Kingma and Ba, 2015); the rule and its
 * precision are those of {@link AdamRule} with {@code decoupled == false}. State: two FP32
 * arrays per parameter, {@code exp_avg} (first moment) and {@code exp_avg_sq} (second moment).
 * The bias corrections count each parameter's own applied steps (those in which it had a
 * gradient), as PyTorch does.
 *
 * @param schedule the learning rate per applied step
 * @param rule     betas, eps and weight decay; must not be decoupled (that is {@link AdamW})
 */
public record Adam(LearningRateSchedule schedule, AdamRule rule) implements Optimizer {

    /** Validates the parts. */
    public Adam {
        Objects.requireNonNull(schedule, "Adam: schedule is null");
        Objects.requireNonNull(rule, "Adam: rule is null");
        if (rule.decoupled()) {
            throw new IllegalArgumentException("Adam: rule has decoupled weight decay; use AdamW for " + rule);
        }
    }

    /** Adam with learning rate {@code lr} and the defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(double lr) {
        this(LearningRateSchedule.constant(lr), AdamRule.adam());
    }

    /** Adam with every hyper-parameter. */
    public Adam(double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(LearningRateSchedule.constant(lr), new AdamRule(beta1, beta2, eps, weightDecay, false));
    }

    @Override
    public Adam withSchedule(LearningRateSchedule schedule) {
        return new Adam(schedule, rule);
    }

    @Override
    public List<String> stateNames() {
        return AdamRule.STATE_NAMES;
    }

    @Override
    public void apply(double lr, long step, float[] param, float[] grad, float[][] state, int off, int len) {
        RuleChecks.stateCount("Adam.apply", state, 2);
        rule.apply(lr, step, param, grad, state[0], state[1], off, len);
    }

    @Override
    public String toString() {
        return "Adam[lr=" + ScheduleText.describe(schedule) + ", beta1=" + rule.beta1() + ", beta2=" + rule.beta2()
                + ", eps=" + rule.eps() + ", weightDecay=" + rule.weightDecay() + "]";
    }
}
