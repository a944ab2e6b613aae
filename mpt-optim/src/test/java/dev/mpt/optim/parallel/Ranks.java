package dev.mpt.optim.parallel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Test helper: runs one body per rank, each on its own thread, over in-process or TCP collectives. */
final class Ranks {

    interface Body<T> {
        T run(Collective c) throws Exception;
    }

    private Ranks() {
    }

    /** Loopback listeners on ephemeral ports, one per rank. */
    static List<ServerSocketChannel> listeners(int world) throws Exception {
        List<ServerSocketChannel> ls = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            ls.add(ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
        }
        return ls;
    }

    static List<InetSocketAddress> addresses(List<ServerSocketChannel> ls) throws Exception {
        List<InetSocketAddress> a = new ArrayList<>();
        for (ServerSocketChannel l : ls) {
            a.add((InetSocketAddress) l.getLocalAddress());
        }
        return a;
    }

    /** A TCP job of {@code world} ranks on loopback, each rank building its collective on its own thread. */
    static <T> List<T> onTcp(int world, JobSecret secret, Duration timeout, Body<T> body) throws Exception {
        List<ServerSocketChannel> ls = listeners(world);
        List<InetSocketAddress> peers = addresses(ls);
        return onThreads(world, r -> {
            try (TcpCollective c = TcpCollective.builder().rank(r).worldSize(world).secret(secret).timeout(timeout)
                    .startupTimeout(Duration.ofSeconds(10)).listener(ls.get(r)).peers(peers).connect()) {
                return body.run(c);
            }
        });
    }

    static <T> List<T> onInProcess(int world, Body<T> body) throws Exception {
        List<Collective> group = InProcessCollective.group(world, Duration.ofSeconds(10));
        return onThreads(world, r -> {
            try (Collective c = group.get(r)) {
                return body.run(c);
            }
        });
    }

    interface RankBody<T> {
        T run(int rank) throws Exception;
    }

    /** Runs {@code body} for ranks 0..world-1 on threads; returns their results, or rethrows the first failure. */
    static <T> List<T> onThreads(int world, RankBody<T> body) throws Exception {
        List<Future<T>> fs = submit(world, body);
        List<T> out = new ArrayList<>();
        for (Future<T> f : fs) {
            try {
                out.add(f.get(60, TimeUnit.SECONDS));
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Exception x) {
                    throw x;
                }
                throw e;
            }
        }
        return out;
    }

    static <T> List<Future<T>> submit(int world, RankBody<T> body) {
        ExecutorService pool = Executors.newFixedThreadPool(world);
        List<Future<T>> fs = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            int rank = r;
            fs.add(pool.submit(() -> body.run(rank)));
        }
        pool.shutdown();
        return fs;
    }
}
