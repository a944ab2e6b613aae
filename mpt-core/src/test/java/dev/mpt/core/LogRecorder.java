package dev.mpt.core;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Logback appender (configured in {@code logback-test.xml} for {@code dev.mpt.core.kernel.Simd})
 * that keeps every event of the JVM's life, so a test can see a line logged once at start-up, by
 * whichever class first touched the kernels.
 */
public final class LogRecorder extends AppenderBase<ILoggingEvent> {

    private static final List<ILoggingEvent> EVENTS = new CopyOnWriteArrayList<>();

    /** Every event recorded so far, oldest first. */
    static List<ILoggingEvent> events() {
        return List.copyOf(EVENTS);
    }

    @Override
    protected void append(ILoggingEvent event) {
        EVENTS.add(event);
    }
}
