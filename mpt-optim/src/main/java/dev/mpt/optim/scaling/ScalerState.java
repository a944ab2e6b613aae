package dev.mpt.optim.scaling;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The mutable part of a {@link LossScaler}, as one immutable value that goes into checkpoints.
 *
 * @param scale                the current loss scale (finite, {@code > 0})
 * @param cleanSteps           consecutive finite steps since the last overflow or growth
 *                             ({@code >= 0}); growth happens when it reaches the growth interval
 * @param hysteresisLeft       overflows still tolerated before the next back-off ({@code >= 1});
 *                             refilled to the scaler's hysteresis by every finite step
 * @param skippedSteps         steps skipped so far because of inf/NaN gradients ({@code >= 0})
 * @param atMinimumOverflowing whether the latest step overflowed at the minimum scale; it marks
 *                             a streak, so the warning is logged once per streak, and is cleared
 *                             by the next finite step
 */
public record ScalerState(double scale, int cleanSteps, int hysteresisLeft, long skippedSteps,
                             boolean atMinimumOverflowing) {

    private static final String SCALE = "scale";
    private static final String CLEAN_STEPS = "cleanSteps";
    private static final String HYSTERESIS_LEFT = "hysteresisLeft";
    private static final String SKIPPED_STEPS = "skippedSteps";
    private static final String AT_MINIMUM = "atMinimumOverflowing";

    /** Validates each field on its own; {@link LossScaler#restore} checks it against the scaler. */
    public ScalerState {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException("ScalerState: scale must be finite and > 0, got " + scale);
        }
        if (cleanSteps < 0) {
            throw new IllegalArgumentException("ScalerState: cleanSteps must be >= 0, got " + cleanSteps);
        }
        if (hysteresisLeft < 1) {
            throw new IllegalArgumentException("ScalerState: hysteresisLeft must be >= 1, got " + hysteresisLeft);
        }
        if (skippedSteps < 0) {
            throw new IllegalArgumentException("ScalerState: skippedSteps must be >= 0, got " + skippedSteps);
        }
    }

    /**
     * Returns the state as strings for a checkpoint: keys {@code scale} (written so that
     * {@link Double#parseDouble} gives back the same double), {@code cleanSteps},
     * {@code hysteresisLeft}, {@code skippedSteps}, {@code atMinimumOverflowing}.
     */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(SCALE, Double.toString(scale));
        m.put(CLEAN_STEPS, Integer.toString(cleanSteps));
        m.put(HYSTERESIS_LEFT, Integer.toString(hysteresisLeft));
        m.put(SKIPPED_STEPS, Long.toString(skippedSteps));
        m.put(AT_MINIMUM, Boolean.toString(atMinimumOverflowing));
        return m;
    }

    /**
     * Reads a state written by {@link #toMap()}.
     *
     * @throws NullPointerException     if {@code map} is null
     * @throws IllegalArgumentException if a key is missing, a value does not parse, or a value is
     *                                  out of range
     */
    public static ScalerState fromMap(Map<String, String> map) {
        if (map == null) {
            throw new NullPointerException("ScalerState.fromMap: map is null");
        }
        String flag = get(map, AT_MINIMUM);
        if (!flag.equals("true") && !flag.equals("false")) {
            throw new IllegalArgumentException("ScalerState.fromMap: " + AT_MINIMUM
                    + " must be 'true' or 'false', got '" + flag + "'");
        }
        try {
            return new ScalerState(Double.parseDouble(get(map, SCALE)),
                    Integer.parseInt(get(map, CLEAN_STEPS)),
                    Integer.parseInt(get(map, HYSTERESIS_LEFT)),
                    Long.parseLong(get(map, SKIPPED_STEPS)),
                    Boolean.parseBoolean(flag));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ScalerState.fromMap: a value does not parse: " + map, e);
        }
    }

    private static String get(Map<String, String> map, String key) {
        String v = map.get(key);
        if (v == null) {
            throw new IllegalArgumentException("ScalerState.fromMap: key '" + key + "' is missing from " + map);
        }
        return v.trim();
    }
}
