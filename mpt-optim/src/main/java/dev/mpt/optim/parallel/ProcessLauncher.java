package dev.mpt.optim.parallel;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a data-parallel job as {@code N} local processes, like {@code torchrun}: each child is a
 * JVM with this JVM's {@code java}, class path and flags (so {@code --add-modules
 * jdk.incubator.vector} carries over), running the given main class with the environment that
 * {@link TcpCollective#fromEnvironment()} reads: {@code MPT_RANK}, {@code MPT_WORLD_SIZE},
 * {@code MPT_MASTER_ADDR}, {@code MPT_MASTER_PORT}, {@code MPT_BIND_ADDR} and {@code MPT_SECRET},
 * a fresh {@link JobSecret} per job. The secret travels in the environment, never on a command
 * line that {@code ps} shows.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp CLASSPATH dev.mpt.optim.parallel.ProcessLauncher \
 *     --workers 3 [--master-addr 127.0.0.1] [--master-port 0] [--timeout-seconds 30] \
 *     com.example.Train [train's arguments...]
 * </pre>
 *
 * Rank 0 listens at the master address (port 0: a free port chosen here); the others meet it there
 * and learn each other's addresses from it (see {@link TcpCollective.Builder#master}). The
 * launcher waits for every rank; when one fails, the others fail through their collective within
 * its timeout, and any still running after that and a grace period are killed. The launcher exits
 * with 0 when every rank did, else with the first failing rank's code.
 */
public final class ProcessLauncher {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessLauncher.class);
    /** How long ranks may outlive a failed rank beyond the collective's timeout before they are killed. */
    private static final Duration GRACE = Duration.ofSeconds(10);

    private final int workers;
    private final String mainClass;
    private final List<String> args;
    private final InetAddress masterAddress;
    private final int masterPort;
    private final Duration timeout;
    private final Path logDirectory;

    private ProcessLauncher(Builder b) {
        this.workers = b.workers;
        this.mainClass = b.mainClass;
        this.args = List.copyOf(b.args);
        this.masterAddress = b.masterAddress;
        this.masterPort = b.masterPort;
        this.timeout = b.timeout;
        this.logDirectory = b.logDirectory;
    }

    /** A launcher to configure. */
    public static Builder builder() {
        return new Builder();
    }

    /** The command-line entry point; see the class doc. */
    public static void main(String[] argv) throws Exception {
        Builder b = builder();
        int i = 0;
        try {
            for (; i < argv.length && argv[i].startsWith("--"); i += 2) {
                if (i + 1 >= argv.length) {
                    throw new IllegalArgumentException(argv[i] + " needs a value");
                }
                String v = argv[i + 1];
                switch (argv[i]) {
                    case "--workers" -> b.workers(Integer.parseInt(v));
                    case "--master-addr" -> b.masterAddress(InetAddress.getByName(v));
                    case "--master-port" -> b.masterPort(Integer.parseInt(v));
                    case "--timeout-seconds" -> b.timeout(Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000)));
                    case "--log-dir" -> b.logDirectory(Path.of(v));
                    default -> throw new IllegalArgumentException("unknown option " + argv[i]);
                }
            }
            if (i >= argv.length) {
                throw new IllegalArgumentException("no main class given");
            }
            b.mainClass(argv[i]).args(Arrays.asList(argv).subList(i + 1, argv.length));
        } catch (IllegalArgumentException e) {
            System.err.println("ProcessLauncher: " + e.getMessage() + "\nusage: ProcessLauncher --workers N "
                    + "[--master-addr HOST] [--master-port PORT] [--timeout-seconds S] [--log-dir DIR] "
                    + "MAIN_CLASS [ARGS...]");
            System.exit(2);
        }
        int[] codes = b.build().run();
        for (int c : codes) {
            if (c != 0) {
                System.exit(c);
            }
        }
    }

    /**
     * Starts the ranks and waits for them.
     *
     * @return each rank's exit code, in rank order
     * @throws IOException if a child process cannot be started
     */
    public int[] run() throws IOException, InterruptedException {
        JobSecret secret = JobSecret.random();
        int port = masterPort != 0 ? masterPort : freePort(masterAddress);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!flag.startsWith("-agentlib:jdwp") && !flag.startsWith("-Xrunjdwp")) {
                command.add(flag); // a debugger's port cannot be shared
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);

        List<Process> ranks = new CopyOnWriteArrayList<>();
        Thread killer = new Thread(() -> ranks.forEach(Process::destroyForcibly));
        Runtime.getRuntime().addShutdownHook(killer);
        try {
            for (int r = 0; r < workers; r++) {
                ProcessBuilder pb = new ProcessBuilder(command);
                Map<String, String> env = pb.environment();
                env.put(TcpCollective.ENV_RANK, Integer.toString(r));
                env.put(TcpCollective.ENV_WORLD_SIZE, Integer.toString(workers));
                env.put(TcpCollective.ENV_MASTER_ADDR, masterAddress.getHostAddress());
                env.put(TcpCollective.ENV_MASTER_PORT, Integer.toString(port));
                env.put(TcpCollective.ENV_SECRET, secret.toHex());
                env.put(TcpCollective.ENV_TIMEOUT, Double.toString(timeout.toMillis() / 1000.0));
                // every rank runs on this host, so each listens on the master's address too
                env.put(TcpCollective.ENV_BIND_ADDR, masterAddress.getHostAddress());
                if (logDirectory != null) {
                    pb.redirectErrorStream(true).redirectOutput(logDirectory.resolve("rank-" + r + ".log").toFile());
                } else {
                    pb.inheritIO();
                }
                ranks.add(pb.start());
            }
            LOG.info("started {} ranks of {} (rank 0 at {}:{})", workers, mainClass, masterAddress.getHostAddress(),
                    port);
            return waitFor(ranks);
        } finally {
            ranks.forEach(Process::destroyForcibly);
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    /** Waits for every rank; once one has failed, the rest get the collective's timeout plus a grace period. */
    private int[] waitFor(List<Process> ranks) throws InterruptedException {
        int[] codes = new int[ranks.size()];
        long deadline = Long.MAX_VALUE;
        boolean[] done = new boolean[ranks.size()];
        int left = ranks.size();
        while (left > 0) {
            for (int r = 0; r < ranks.size(); r++) {
                Process p = ranks.get(r);
                if (!done[r] && p.waitFor(20, TimeUnit.MILLISECONDS)) {
                    done[r] = true;
                    left--;
                    codes[r] = p.exitValue();
                    if (codes[r] != 0) {
                        LOG.error("rank {} exited with code {}", r, codes[r]);
                        if (deadline == Long.MAX_VALUE) {
                            deadline = System.nanoTime() + timeout.plus(GRACE).toNanos();
                        }
                    }
                }
            }
            if (System.nanoTime() - deadline > 0) {
                for (int r = 0; r < ranks.size(); r++) {
                    if (!done[r]) {
                        LOG.error("rank {} still runs {} after another rank failed; killing it", r,
                                timeout.plus(GRACE));
                        ranks.get(r).destroyForcibly();
                    }
                }
                deadline = Long.MAX_VALUE;
            }
        }
        return codes;
    }

    private static int freePort(InetAddress address) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(address, 0));
            return s.getLocalPort();
        }
    }

    /** Settings of a {@link ProcessLauncher}; {@link #workers} and {@link #mainClass} are required. */
    public static final class Builder {
        private int workers;
        private String mainClass;
        private List<String> args = List.of();
        private InetAddress masterAddress = InetAddress.getLoopbackAddress();
        private int masterPort;
        private Duration timeout = TcpCollective.DEFAULT_TIMEOUT;
        private Path logDirectory;

        private Builder() {
        }

        /** The number of ranks (processes). */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        /** The class whose {@code main} each rank runs; it calls {@link TcpCollective#fromEnvironment()}. */
        public Builder mainClass(String mainClass) {
            this.mainClass = Objects.requireNonNull(mainClass, "ProcessLauncher.Builder.mainClass: null");
            return this;
        }

        /** The arguments of every rank's {@code main}. */
        public Builder args(List<String> args) {
            this.args = List.copyOf(args);
            return this;
        }

        /** The address rank 0 listens on and the others connect to (default loopback). */
        public Builder masterAddress(InetAddress masterAddress) {
            this.masterAddress = Objects.requireNonNull(masterAddress, "ProcessLauncher.Builder.masterAddress: null");
            return this;
        }

        /** Rank 0's port (default 0: a free port chosen at launch). */
        public Builder masterPort(int masterPort) {
            this.masterPort = masterPort;
            return this;
        }

        /** The collective's per-call timeout handed to every rank (default 30 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "ProcessLauncher.Builder.timeout: null");
            return this;
        }

        /** Write each rank's output to {@code rank-R.log} in this directory instead of this process's. */
        public Builder logDirectory(Path logDirectory) {
            this.logDirectory = logDirectory;
            return this;
        }

        /**
         * @throws IllegalArgumentException if a required setting is missing or out of range
         */
        public ProcessLauncher build() {
            if (workers < 1) {
                throw new IllegalArgumentException("ProcessLauncher: workers must be >= 1, got " + workers);
            }
            if (mainClass == null || mainClass.isBlank()) {
                throw new IllegalArgumentException("ProcessLauncher: no main class");
            }
            if (masterPort < 0 || masterPort > 0xFFFF) {
                throw new IllegalArgumentException("ProcessLauncher: master port must be in [0, 65535], got "
                        + masterPort);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("ProcessLauncher: timeout must be positive, got " + timeout);
            }
            return new ProcessLauncher(this);
        }
    }
}
