package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A rank that dies, hangs, skips a call or never starts makes every other rank fail within the deadline, naming it. */
class TcpFaultTest {

    private static final Duration TIMEOUT = Duration.ofMillis(500);

    /** Result of a rank that was expected to fail: the exception and how long its failing call took. */
    record Failure(CollectiveException e, long millis) {
    }

    private static List<Future<Object>> job(int world, Ranks.Body<Object> body) throws Exception {
        return job(world, TIMEOUT, body);
    }

    private static List<Future<Object>> job(int world, Duration timeout, Ranks.Body<Object> body) throws Exception {
        JobSecret secret = JobSecret.random();
        List<ServerSocketChannel> ls = Ranks.listeners(world);
        List<InetSocketAddress> peers = Ranks.addresses(ls);
        return Ranks.submit(world, r -> {
            try (TcpCollective c = TcpCollective.builder().rank(r).worldSize(world).secret(secret).timeout(timeout)
                    .startupTimeout(Duration.ofSeconds(10)).listener(ls.get(r)).peers(peers).connect()) {
                return body.run(c);
            }
        });
    }

    /** Runs {@code call} and returns how it failed. */
    private static Failure failing(Ranks.Body<Object> call, Collective c) {
        long t0 = System.nanoTime();
        CollectiveException e = assertThrows(CollectiveException.class, () -> call.run(c));
        return new Failure(e, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    @Test
    void aRankThatDiesIsNamedAtOnce() throws Exception {
        // a long deadline: failing well before it shows the death was seen, not waited out
        Duration deadline = Duration.ofSeconds(10);
        List<Future<Object>> ranks = job(3, deadline, c -> {
            c.anyTrue(false);
            if (c.rank() == 2) {
                return null; // leaves: its connections close, as a killed process's do
            }
            return failing(x -> x.anyTrue(false), c);
        });
        for (int r = 0; r < 2; r++) {
            Failure f = (Failure) ranks.get(r).get(30, TimeUnit.SECONDS);
            assertEquals(2, f.e().rank(), f.e().getMessage());
            assertTrue(f.millis() < deadline.toMillis() / 2, "rank " + r + " took " + f.millis() + " ms");
        }
    }

    @Test
    void aRankThatHangsIsNamedWithinTheTimeout() throws Exception {
        List<Future<Object>> ranks = job(3, c -> {
            c.anyTrue(false);
            if (c.rank() == 2) {
                Thread.sleep(10 * TIMEOUT.toMillis()); // hangs, then leaves
                return null;
            }
            Failure f = failing(x -> x.allGather(new double[] {1}), c);
            // later calls fail at once, with the same culprit
            Failure again = failing(x -> x.anyTrue(true), c);
            assertEquals(2, again.e().rank());
            assertTrue(again.e().getMessage().contains("cannot go on after an earlier failure"),
                    again.e().getMessage());
            return f;
        });
        for (int r = 0; r < 2; r++) {
            Failure f = (Failure) ranks.get(r).get(30, TimeUnit.SECONDS);
            assertEquals(2, f.e().rank(), f.e().getMessage());
            // fails after the timeout of no progress, and not much later (slack for a loaded machine)
            assertTrue(f.millis() >= TIMEOUT.toMillis() - 50 && f.millis() < 8 * TIMEOUT.toMillis(),
                    "rank " + r + " took " + f.millis() + " ms: " + f.e().getMessage());
        }
    }

    @Test
    void ranksThatCallDifferentOperationsBothFail() throws Exception {
        List<Future<Object>> ranks = job(2, c -> c.rank() == 0
                ? failing(x -> x.anyTrue(true), c)
                : failing(x -> x.allGather(new double[] {1}), c));
        for (Future<Object> f : ranks) {
            Failure fail = (Failure) f.get(30, TimeUnit.SECONDS);
            assertTrue(fail.e().getMessage().contains("the ranks called different operations"),
                    fail.e().getMessage());
        }
    }

    @Test
    void aRankThatNeverStartsIsNamedAtStartUp() throws Exception {
        List<ServerSocketChannel> ls = Ranks.listeners(2);
        List<InetSocketAddress> peers = Ranks.addresses(ls);
        ls.get(0).close(); // rank 0 never comes: nobody listens at its address
        for (int r = 0; r < 2; r++) {
            TcpCollective.Builder b = TcpCollective.builder().rank(r).worldSize(2).secret(JobSecret.random())
                    .timeout(TIMEOUT).startupTimeout(Duration.ofMillis(500)).peers(peers);
            if (r == 0) {
                b.listener(ServerSocketChannel.open().bind(null));
            } else {
                b.listener(ls.get(1));
            }
            long t0 = System.nanoTime();
            CollectiveException e = assertThrows(CollectiveException.class, b::connect);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(1 - r, e.rank(), e.getMessage());
            assertTrue(ms < 3000, ms + " ms");
            String expected = r == 0 ? "waited PT0.5S for rank(s) [1] to connect" : "could not connect to rank 0 at";
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    static Object unwrap(Future<Object> f) throws Exception {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }
}
