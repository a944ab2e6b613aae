package dev.mpt.optim.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.number.DType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TcpCollectiveTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    /** Random 16-bit patterns of every kind: normals, subnormals, zeros, infinities and NaNs. */
    private static short[] randomBits(SplittableRandom rnd, int n) {
        short[] a = new short[n];
        for (int i = 0; i < n; i++) {
            a[i] = (short) rnd.nextInt(1 << 16);
        }
        return a;
    }

    private static float[] randomFloats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 5));
        }
        return a;
    }

    /**
     * Every call of the interface on the same random inputs; the results of each rank, in call
     * order. Sizes cover uneven shards (1001 over 3) and empty ones (2 over 3).
     */
    static Ranks.Body<List<Object>> everyCall(int world, long seed) {
        return c -> {
            List<Object> out = new ArrayList<>();
            for (int n : new int[] {1001, 2, 4096}) {
                Shards shards = Shards.even(n, world);
                int own = shards.length(c.rank());
                SplittableRandom rnd = new SplittableRandom(seed + 31L * n + c.rank());
                for (DType t : new DType[] {DType.FP16, DType.BF16}) {
                    float[] sum = new float[own];
                    c.reduceScatter(randomBits(rnd, n), t, shards, sum);
                    out.add(sum);
                }
                float[] sum32 = new float[own];
                c.reduceScatter(randomFloats(rnd, n), shards, sum32);
                out.add(sum32);
                short[] full16 = new short[n];
                c.allGather(randomBits(rnd, own), shards, full16);
                out.add(full16);
                float[] full32 = new float[n];
                c.allGather(randomFloats(rnd, own), shards, full32);
                out.add(full32);
            }
            out.add(c.anyTrue(c.rank() == world - 1));
            out.add(c.anyTrue(false));
            out.add(c.allGather(new double[0]));
            out.add(c.allGather(new double[] {Math.PI * c.rank(), -0.0, Double.NaN}));
            return out;
        };
    }

    @Test
    void resultsAreBitIdenticalToInProcess() throws Exception {
        for (int world : new int[] {2, 3}) {
            JobSecret secret = JobSecret.random();
            List<List<Object>> tcp = Ranks.onTcp(world, secret, TIMEOUT, everyCall(world, 11));
            List<List<Object>> local = Ranks.onInProcess(world, everyCall(world, 11));
            for (int r = 0; r < world; r++) {
                assertEquals(local.get(r).size(), tcp.get(r).size());
                for (int i = 0; i < local.get(r).size(); i++) {
                    Object a = local.get(r).get(i);
                    Object b = tcp.get(r).get(i);
                    String where = "world " + world + ", rank " + r + ", call " + i;
                    boolean same = switch (a) {
                        case float[] x -> Arrays.equals(x, (float[]) b);
                        case short[] x -> Arrays.equals(x, (short[]) b);
                        case double[] x -> Arrays.equals(x, (double[]) b);
                        default -> a.equals(b);
                    };
                    assertTrue(same, where);
                }
            }
        }
    }

    @Test
    void bytesSentAreTheShardsPlusOneHeaderPerPeer() throws Exception {
        int world = 3;
        int n = 3 * 1000;
        Shards shards = Shards.even(n, world);
        List<Long> sent = Ranks.onTcp(world, JobSecret.random(), TIMEOUT, c -> {
            long before = c.bytesSent();
            float[] sum = new float[shards.length(c.rank())];
            c.reduceScatter(new short[n], DType.FP16, shards, sum);
            c.allGather(new short[shards.length(c.rank())], shards, new short[n]);
            return c.bytesSent() - before;
        });
        // reduce-scatter: (N-1) slices of n/N elements; all-gather: the own shard to N-1 peers;
        // 2 bytes each, so 2 x (N-1)/N x 2 bytes per element, plus one header per peer per call
        long expected = 2L * (world - 1) * n / world * 2 + 2L * (world - 1) * Frame.HEADER_BYTES;
        assertEquals(List.of(expected, expected, expected), sent);
        assertEquals(8064L, expected);
    }

    @Test
    void aRendezvousAtRankZeroConnectsEveryRank() throws Exception {
        int world = 3;
        JobSecret secret = JobSecret.random();
        var l0 = Ranks.listeners(1).get(0);
        InetSocketAddress master = (InetSocketAddress) l0.getLocalAddress();
        List<double[]> got = Ranks.onThreads(world, r -> {
            TcpCollective.Builder b = TcpCollective.builder().rank(r).worldSize(world).secret(secret).master(master)
                    .timeout(TIMEOUT).startupTimeout(Duration.ofSeconds(10));
            if (r == 0) {
                b.listener(l0);
            }
            try (TcpCollective c = b.connect()) {
                return c.allGather(new double[] {r});
            }
        });
        for (double[] g : got) {
            assertArrayEquals(new double[] {0, 1, 2}, g);
        }
    }

    @Test
    void theEnvironmentMustNameEveryVariable() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TcpCollective.fromEnvironment(Map.of("MPT_RANK", "0", "MPT_WORLD_SIZE", "2")));
        assertTrue(e.getMessage().startsWith("TcpCollective.fromEnvironment: MPT_SECRET is not set"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> TcpCollective.fromEnvironment(Map.of("MPT_RANK", "0",
                "MPT_WORLD_SIZE", "2", "MPT_SECRET", "abcd")));
        assertEquals("TcpCollective.fromEnvironment: MPT_SECRET is malformed: JobSecret.fromHex: the secret has 2 "
                + "bytes, at least 32 are needed; make one with JobSecret.random()", e.getMessage());
    }

    @Test
    void theBuilderNamesMissingSettings() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TcpCollective.builder().rank(0).worldSize(2)
                        .peers(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1),
                                new InetSocketAddress(InetAddress.getLoopbackAddress(), 2)))
                        .connect());
        assertTrue(e.getMessage().startsWith("TcpCollective.Builder: no secret"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TcpCollective.builder().rank(2).worldSize(2).secret(JobSecret.random()).connect());
        assertEquals("TcpCollective.Builder: rank must be in [0, 2), got 2", e.getMessage());
    }

    @Test
    void aSecretIsRandomAndNeverPrinted() {
        JobSecret a = JobSecret.random();
        JobSecret b = JobSecret.random();
        assertTrue(!a.equals(b));
        assertEquals(64, a.toHex().length());
        assertEquals(a, JobSecret.fromHex(a.toHex()));
        assertEquals("JobSecret[32 bytes, hidden]", a.toString());
    }
}
