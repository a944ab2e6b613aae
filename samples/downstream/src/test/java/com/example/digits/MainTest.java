package com.example.digits;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import org.junit.jupiter.api.Test;

/** Runs on the JDK 25 that the toolchains plugin selects, as Surefire is toolchain-aware. */
class MainTest {

    @Test
    void learnsTheDigits() {
        Dataset.Split data = Digits.load().split(0.25, 7);
        double accuracy = Main.train(3, data, Main.model(1)).accuracy();
        assertTrue(accuracy > 0.8, "accuracy after 3 epochs: " + accuracy);
        assertTrue(Runtime.version().feature() >= 25, "tests run on " + Runtime.version());
    }
}
