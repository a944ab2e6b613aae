package dev.mpt.optim.schedule;

/** Argument checks of the schedules; messages name the schedule, the argument and the value. */
final class ScheduleChecks {

    private ScheduleChecks() {
    }

    static void step(String schedule, long step) {
        if (step < 0) {
            throw new IllegalArgumentException(schedule + ".at: step must be >= 0, got " + step);
        }
    }

    static void rate(String schedule, String name, double lr) {
        if (!(lr >= 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException(schedule + ": " + name + " must be finite and >= 0, got " + lr);
        }
    }
}
