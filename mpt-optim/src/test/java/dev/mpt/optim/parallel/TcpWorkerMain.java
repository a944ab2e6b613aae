package dev.mpt.optim.parallel;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A rank started by {@link ProcessLauncherTest}: joins the job with {@link TcpCollective#fromEnvironment()},
 * makes every collective call on seeded random inputs and writes its results to {@code DIR/rank-R.bin}.
 * With {@code die-at-call K} rank 1 halts (as if killed) before call {@code K}; the others write the
 * rank their failure names and how long it took to {@code DIR/rank-R.failure} and exit with 2.
 */
public final class TcpWorkerMain {

    private TcpWorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String secret = System.getenv(TcpCollective.ENV_SECRET);
        if (ProcessHandle.current().info().commandLine().orElse("").contains(secret)) {
            System.exit(4); // the secret must not be visible to ps
        }
        try (TcpCollective c = TcpCollective.fromEnvironment()) {
            if (args.length > 1 && args[1].equals("die-at-call")) {
                int k = Integer.parseInt(args[2]);
                for (int call = 0; ; call++) {
                    if (call == k && c.rank() == 1) {
                        Runtime.getRuntime().halt(3);
                    }
                    long t0 = System.nanoTime();
                    try {
                        c.anyTrue(false);
                    } catch (CollectiveException e) {
                        long ms = (System.nanoTime() - t0) / 1_000_000;
                        Files.writeString(dir.resolve("rank-" + c.rank() + ".failure"), e.rank() + " " + ms + " "
                                + e.getMessage());
                        System.exit(2);
                    }
                }
            }
            List<Object> results = TcpCollectiveTest.everyCall(c.worldSize(), 11).run(c);
            try (OutputStream out = Files.newOutputStream(dir.resolve("rank-" + c.rank() + ".bin"))) {
                write(results, out);
            }
        }
    }

    /** The results' bits, in order. */
    static void write(List<Object> results, OutputStream os) throws IOException {
        DataOutputStream out = new DataOutputStream(os);
        for (Object o : results) {
            switch (o) {
                case float[] a -> {
                    for (float v : a) {
                        out.writeInt(Float.floatToRawIntBits(v));
                    }
                }
                case short[] a -> {
                    for (short v : a) {
                        out.writeShort(v);
                    }
                }
                case double[] a -> {
                    for (double v : a) {
                        out.writeLong(Double.doubleToRawLongBits(v));
                    }
                }
                case Boolean b -> out.writeBoolean(b);
                default -> throw new IllegalArgumentException(o.getClass().toString());
            }
        }
        out.flush();
    }
}
