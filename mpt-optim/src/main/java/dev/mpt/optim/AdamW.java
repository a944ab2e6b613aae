package dev.mpt.optim;

import dev.mpt.optim.schedule.LearningRateSchedule;

import java.util.List;
import java.util.Objects;

/**
 * AdamW: Adam with decoupled weight decay (Loshchilov and Hutter, 2019); the rule and its
 * precision are those of {@link AdamRule} with {@code decoupled == true}. State: two FP32 arrays
 * per parameter, {@code exp_avg} and {@code exp_avg_sq}.
 *
 * @param schedule the learning rate per applied step
 * @param rule     betas, eps and weight decay; must be decoupled
 */
public record AdamW(LearningRateSchedule schedule, AdamRule rule) implements Optimizer {

    /** Validates the parts. */
    public AdamW {
        Objects.requireNonNull(schedule, "AdamW: schedule is null");
        Objects.requireNonNull(rule, "AdamW: rule is null");
        if (!rule.decoupled()) {
            throw new IllegalArgumentException("AdamW: rule has L2 (not decoupled) weight decay; use Adam for " + rule);
        }
    }

    /** AdamW with learning rate {@code lr} and the defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public AdamW(double lr) {
        this(LearningRateSchedule.constant(lr), AdamRule.adamW());
    }

    /** AdamW with every hyper-parameter. */
    public AdamW(double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(LearningRateSchedule.constant(lr), new AdamRule(beta1, beta2, eps, weightDecay, true));
    }

    @Override
    public AdamW withSchedule(LearningRateSchedule schedule) {
        return new AdamW(schedule, rule);
    }

    @Override
    public List<String> stateNames() {
        return AdamRule.STATE_NAMES;
    }

    @Override
    public void apply(double lr, long step, float[] param, float[] grad, float[][] state, int off, int len) {
        RuleChecks.stateCount("AdamW.apply", state, 2);
        rule.apply(lr, step, param, grad, state[0], state[1], off, len);
    }

    @Override
    public String toString() {
        return "AdamW[lr=" + ScheduleText.describe(schedule) + ", beta1=" + rule.beta1() + ", beta2=" + rule.beta2()
                + ", eps=" + rule.eps() + ", weightDecay=" + rule.weightDecay() + "]";
    }
}
