package dev.mpt.optim.parallel;

import dev.mpt.nn.Module;
import dev.mpt.optim.amp.StepOutcome;
import dev.mpt.optim.parallel.DpFixtures.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * One rank of a data-parallel training run over {@link TcpCollective#fromEnvironment()}, started by
 * {@link TcpTrainingTest} through {@link ProcessLauncher}: {@link DataParallelEquivalenceTest#fp16Adam()}
 * on micro-batch {@code rank} of each step up to step {@value DataParallelEquivalenceTest#STEPS}.
 *
 * <p>Arguments: {@code DIR [save-at S] [die-at K] [resume]}: save a {@link ShardedCheckpoint} in
 * {@code DIR/ckpt} after step {@code S}; rank 1 halts (as if killed) before step {@code K}, and the
 * others write the rank their failure names, how long the failing step took and the
 * message to {@code DIR/rank-R.failure} and exit
 * with 2; resume from {@code DIR/ckpt}. At the end each rank writes its masters' bits and its steps
 * to {@code DIR/rank-R.masters} and {@code DIR/rank-R.steps}.
 */
public final class DpWorkerMain {

    private DpWorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        List<String> opts = List.of(args).subList(1, args.length);
        int saveAt = opts.contains("save-at") ? Integer.parseInt(opts.get(opts.indexOf("save-at") + 1)) : -1;
        int dieAt = opts.contains("die-at") ? Integer.parseInt(opts.get(opts.indexOf("die-at") + 1)) : -1;
        Config cfg = DataParallelEquivalenceTest.fp16Adam();
        if (ProcessHandle.current().info().commandLine().orElse("").contains(System.getenv(TcpCollective.ENV_SECRET))) {
            System.exit(4); // the secret must not be visible to ps
        }
        try (TcpCollective c = TcpCollective.fromEnvironment()) {
            Module model = cfg.model().get();
            DataParallelOptimizer opt = cfg.build(model, c);
            if (opts.contains("resume")) {
                ShardedCheckpoint.load(dir.resolve("ckpt"), opt);
            }
            List<StepOutcome> outcomes = new ArrayList<>();
            for (int t = (int) opt.attemptedSteps(); t < DataParallelEquivalenceTest.STEPS; t++) {
                if (t == dieAt && c.rank() == 1) {
                    Runtime.getRuntime().halt(3);
                }
                long t0 = System.nanoTime();
                try {
                    opt.zeroGrad();
                    opt.scale(DpFixtures.loss(model, cfg.precision(), t, c.rank(), false)).backward();
                    outcomes.add(opt.step());
                } catch (CollectiveException e) {
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    Files.writeString(dir.resolve("rank-" + c.rank() + ".failure"), e.rank() + " " + ms + " "
                            + e.getMessage());
                    System.exit(2);
                }
                if (t + 1 == saveAt) {
                    ShardedCheckpoint.save(dir.resolve("ckpt"), opt);
                }
            }
            Files.write(dir.resolve("rank-" + c.rank() + ".masters"), lines(opt.allMasters()));
            Files.write(dir.resolve("rank-" + c.rank() + ".steps"), DataParallelEquivalenceTest.summary(outcomes));
        }
    }

    /** One line per master: its name and the hex of each element's bits. */
    static List<String> lines(Map<String, float[]> masters) {
        List<String> out = new ArrayList<>();
        masters.forEach((name, v) -> {
            StringJoiner j = new StringJoiner(",", name + " ", "");
            for (float f : v) {
                j.add(HexFormat.of().toHexDigits(Float.floatToRawIntBits(f)));
            }
            out.add(j.toString());
        });
        return out;
    }
}
