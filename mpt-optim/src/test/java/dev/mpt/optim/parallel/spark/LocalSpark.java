package dev.mpt.optim.parallel.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The tests' one Spark {@code local[4]} context (starting one takes seconds), bound to loopback,
 * stopped when the test JVM exits; a failing stage is tried twice.
 */
final class LocalSpark {

    static final int SLOTS = 4;
    private static JavaSparkContext context;

    private LocalSpark() {
    }

    static synchronized JavaSparkContext context() {
        if (context == null) {
            context = new JavaSparkContext(new SparkConf().setMaster("local[" + SLOTS + "]").setAppName("mpt-tests")
                    .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                    .set("spark.driver.bindAddress", "127.0.0.1")
                    // a stage that keeps failing gives up after 2 attempts (Spark's default: 4)
                    .set("spark.stage.maxConsecutiveAttempts", "2"));
            JavaSparkContext c = context;
            Runtime.getRuntime().addShutdownHook(new Thread(c::stop));
        }
        return context;
    }
}
