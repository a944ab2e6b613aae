package dev.mpt.optim.parallel.spark;

import dev.mpt.optim.parallel.Collective;
import dev.mpt.optim.parallel.JobSecret;
import dev.mpt.optim.parallel.TcpCollective;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Data-parallel training on Apache Spark, as XGBoost4J-Spark and Horovod on Spark do it: Spark
 * launches, places and gang-schedules the workers and feeds them data; mpt's
 * {@link TcpCollective} moves the gradients.
 *
 * <pre>{@code
 * List<float[]> weights = SparkDataParallel.builder().workers(4).build()
 *         .run(samples, (collective, partition) -> train(collective, partition));
 * }</pre>
 *
 * {@link #run} repartitions the samples into {@code workers} partitions (unless they already are)
 * and runs them as one barrier stage ({@code rdd.barrier().mapPartitions}): all tasks start
 * together or not at all. Each task binds a listening socket on its executor's address, and the
 * tasks exchange their addresses with one {@link BarrierTaskContext#allGather} (it costs about a
 * second, so it is called once, never per step); then every task builds its {@link TcpCollective}
 * (rank = partition index) and calls the training function with it and its partition.
 *
 * <p><b>Security.</b> The driver makes a fresh {@link JobSecret} per run and ships it to the
 * tasks in the task closure; it is as confidential as Spark's own task channel, so on a shared
 * cluster enable Spark's authentication and RPC encryption ({@code spark.authenticate},
 * {@code spark.network.crypto.enabled}).
 *
 * <p><b>Faults.</b> A task that fails, dies or hangs makes every other task's collective fail
 * within the timeout, so the barrier stage fails as a whole. {@link #run} follows the barrier stage
 * with a shuffle, which makes it a shuffle-map stage that Spark relaunches as a whole (up to
 * {@code spark.stage.maxConsecutiveAttempts}, default 4), with fresh addresses and the same secret;
 * the training function should resume from its last checkpoint
 * ({@code TaskContext.get().stageAttemptNumber()} says which attempt runs). (Spark 4.2 does not
 * retry a failed barrier result stage.) When every attempt fails, {@code run} throws a
 * {@code SparkException} with the failed task's error.
 *
 * <p>Spark 4.1+ on JDK 25 needs the JVM options of Spark's {@code JavaModuleOptions} in a plain JVM
 * (spark-submit adds them); mpt-optim's pom lists them for its tests.
 */
public final class SparkDataParallel implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The training run of one rank. */
    @FunctionalInterface
    public interface TrainFunction<T, R> extends Serializable {
        /**
         * Trains on this rank's partition and returns what the driver should get from this rank
         * (for example rank 0's final weights; null is allowed).
         */
        R train(Collective collective, Iterator<T> partition) throws Exception;
    }

    private final int workers;
    private final Duration timeout;
    private final Duration startupTimeout;

    private SparkDataParallel(int workers, Duration timeout, Duration startupTimeout) {
        this.workers = workers;
        this.timeout = timeout;
        this.startupTimeout = startupTimeout;
    }

    /** A builder; {@link Builder#workers} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Trains on {@code samples} with {@code workers} barrier tasks; returns each rank's result, in
     * rank order.
     *
     * @throws org.apache.spark.SparkException (unchecked in Java) if the stage fails after Spark's retries
     */
    public <T, R> List<R> run(JavaRDD<T> samples, TrainFunction<T, R> train) {
        Objects.requireNonNull(samples, "SparkDataParallel.run: samples is null");
        Objects.requireNonNull(train, "SparkDataParallel.run: train is null");
        JavaRDD<T> parts = samples.getNumPartitions() == workers ? samples : samples.repartition(workers);
        Task<T, R> task = new Task<>(train, JobSecret.random().toHex(), workers, timeout, startupTimeout);
        @SuppressWarnings("unchecked")
        ClassTag<Ranked<R>> tag = (ClassTag<Ranked<R>>) (ClassTag<?>) ClassTag$.MODULE$.apply(Ranked.class);
        // the shuffle after the barrier stage makes it a shuffle-map stage, which Spark relaunches as
        // a whole when a task fails (a failed barrier result stage is not retried)
        List<Ranked<R>> results = new ArrayList<>(parts.rdd().barrier().mapPartitions(new Bridge<>(task), false, tag)
                .toJavaRDD().repartition(1).collect());
        results.sort((a, b) -> Integer.compare(a.rank(), b.rank()));
        List<R> out = new ArrayList<>(results.size());
        for (Ranked<R> r : results) {
            out.add(r.result());
        }
        return out;
    }

    @Override
    public String toString() {
        return "SparkDataParallel[workers " + workers + ", timeout " + timeout + ", startupTimeout "
                + startupTimeout + "]";
    }

    /** One rank's result. */
    record Ranked<R>(int rank, R result) implements Serializable {
    }

    /** The task as the Scala function {@code RDDBarrier.mapPartitions} takes. */
    private static final class Bridge<T, R> extends AbstractFunction1<scala.collection.Iterator<T>,
            scala.collection.Iterator<Ranked<R>>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final Task<T, R> task;

        Bridge(Task<T, R> task) {
            this.task = task;
        }

        @Override
        public scala.collection.Iterator<Ranked<R>> apply(scala.collection.Iterator<T> partition) {
            try {
                return CollectionConverters.asScala(task.call(CollectionConverters.asJava(partition)));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("SparkDataParallel: the training function failed: " + e, e);
            }
        }
    }

    /** What each barrier task runs: meet the others once, then train. */
    record Task<T, R>(TrainFunction<T, R> train, String secretHex, int workers, Duration timeout,
            Duration startupTimeout) implements Serializable {

        Iterator<Ranked<R>> call(Iterator<T> partition) throws Exception {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            int world = ctx.getTaskInfos().length;
            if (world != workers) {
                throw new IllegalStateException("SparkDataParallel: the barrier stage has " + world
                        + " tasks, expected " + workers);
            }
            String host = hostOf(ctx.getTaskInfos()[rank].address());
            ServerSocketChannel listener = ServerSocketChannel.open()
                    .bind(new InetSocketAddress(InetAddress.getByName(host), 0), Math.max(64, world));
            String[] addresses;
            try {
                addresses = ctx.allGather(host + " " + ((InetSocketAddress) listener.getLocalAddress()).getPort());
            } catch (RuntimeException e) {
                listener.close();
                throw e;
            }
            List<InetSocketAddress> peers = parse(addresses);
            try (TcpCollective c = TcpCollective.builder().rank(rank).worldSize(world)
                    .secret(JobSecret.fromHex(secretHex)).timeout(timeout).startupTimeout(startupTimeout)
                    .listener(listener).peers(peers).connect()) {
                return List.of(new Ranked<>(rank, train.train(c, partition))).iterator();
            }
        }

        /** The host of an executor's "host:port" (an IPv6 host may be bracketed). */
        static String hostOf(String address) {
            int colon = address.lastIndexOf(':');
            String host = colon > 0 && address.indexOf(':') == colon || address.startsWith("[")
                    ? address.substring(0, colon) : address;
            return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        }

        private static List<InetSocketAddress> parse(String[] addresses) throws IOException {
            List<InetSocketAddress> peers = new ArrayList<>(addresses.length);
            for (String a : addresses) {
                int space = a.lastIndexOf(' ');
                if (space < 0) {
                    throw new IOException("SparkDataParallel: malformed address '" + a + "' from allGather");
                }
                peers.add(new InetSocketAddress(a.substring(0, space), Integer.parseInt(a.substring(space + 1))));
            }
            return peers;
        }
    }

    /** Settings of a {@link SparkDataParallel}. */
    public static final class Builder {
        private int workers;
        private Duration timeout = TcpCollective.DEFAULT_TIMEOUT;
        private Duration startupTimeout = TcpCollective.DEFAULT_STARTUP_TIMEOUT;

        private Builder() {
        }

        /** The number of barrier tasks (ranks); the cluster must have that many task slots free at once. */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        /** The collective's per-call timeout (default 30 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "SparkDataParallel.Builder.timeout: null");
            return this;
        }

        /** The longest the tasks may take to connect after they have exchanged addresses (default 60 s). */
        public Builder startupTimeout(Duration startupTimeout) {
            this.startupTimeout = Objects.requireNonNull(startupTimeout,
                    "SparkDataParallel.Builder.startupTimeout: null");
            return this;
        }

        /**
         * @throws IllegalArgumentException if {@code workers < 1} or a timeout is not positive
         */
        public SparkDataParallel build() {
            if (workers < 1) {
                throw new IllegalArgumentException("SparkDataParallel: workers must be >= 1, got " + workers);
            }
            for (Duration d : new Duration[] {timeout, startupTimeout}) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("SparkDataParallel: timeouts must be positive, got " + d);
                }
            }
            return new SparkDataParallel(workers, timeout, startupTimeout);
        }
    }
}
