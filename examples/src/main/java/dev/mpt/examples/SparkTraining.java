package dev.mpt.examples;

import dev.mpt.examples.CommonOptions.PrecisionOption;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.TrainTest;
import dev.mpt.optim.Sgd;
import dev.mpt.optim.parallel.Collective;
import dev.mpt.optim.parallel.spark.SparkDataParallel;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code fashion-mlp --workers N --launcher spark}: the data-parallel MLP as {@code N} barrier
 * tasks of Spark ({@link SparkDataParallel}), by default on {@code local[N]} (tasks are threads of
 * this JVM; {@code -Dspark.master=...} names another master). The samples are an RDD of
 * training-sample indices with {@code N} partitions: partition {@code r} holds rank {@code r}'s
 * share of every global batch, in step order, drawn with the shuffle the in-process workers use
 * ({@link DataParallelTraining#shuffle}), so the run is bit-identical to {@code --workers N}. Each
 * executor loads Fashion-MNIST itself, once per JVM. Only this class touches Spark: the other
 * examples never load its classes.
 */
final class SparkTraining {

    /** Each JVM's datasets by {@code dir + limit}: under {@code local[N]} the driver and every task share one. */
    private static final Map<String, TrainTest> DATA = new ConcurrentHashMap<>();

    private SparkTraining() {
    }

    /**
     * The run's settings, shipped to the tasks.
     *
     * @param dataDir     the Fashion-MNIST directory, readable by every executor
     * @param limit       samples per split, or {@code Integer.MAX_VALUE}
     * @param seed        the random seed (weights and shuffle)
     * @param maxSteps    steps per epoch at most
     * @param hidden      hidden width
     * @param lr          learning rate
     * @param momentum    SGD momentum
     * @param batch       global batch
     * @param epochs      epochs
     * @param workers     barrier tasks (ranks)
     * @param saveMasters whether rank 0 writes its final FP32 masters
     * @param precision   the precision
     * @param outDir      rank 0's output directory
     */
    record Job(String dataDir, int limit, long seed, int maxSteps, int hidden, double lr, double momentum, int batch,
               int epochs, int workers, boolean saveMasters, PrecisionOption precision, String outDir)
            implements Serializable {

        TrainTest data() {
            return DATA.computeIfAbsent(dataDir + "\u0000" + limit, k -> {
                var d = new FashionData();
                d.dir = Path.of(dataDir);
                try {
                    return d.loadStandardized(limit);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        DataParallelTraining.Setup setup() {
            return new DataParallelTraining.Setup(() -> FashionMlp.model(seed, hidden), new Sgd(lr, momentum), data(),
                    batch, epochs, workers, saveMasters);
        }

        /** The options {@link DataParallelTraining} reads: seed, limit and steps per epoch. */
        CommonOptions common() {
            var c = new CommonOptions();
            c.seed = seed;
            c.limit = limit;
            c.maxSteps = maxSteps;
            return c;
        }
    }

    /** Trains {@code job} on Spark and returns rank 0's result. */
    static RunResult run(Job job, Logger log) {
        DataParallelTraining.Setup setup = job.setup();
        CommonOptions common = job.common();
        List<Integer> indices = rankMajorIndices(setup.data().train().size(), job.batch(), job.workers(),
                DataParallelTraining.stepsPerEpoch(setup, common), job.epochs(), common);
        SparkConf conf = new SparkConf().setAppName("mpt fashion-mlp")
                .setIfMissing("spark.master", "local[" + job.workers() + "]")
                .setIfMissing("spark.ui.enabled", "false")
                // local[N] talks over loopback; on a cluster, -Dspark.driver.host=... overrides it
                .setIfMissing("spark.driver.host", "127.0.0.1")
                .setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            log.info("{}: Spark {} on {}, {} sample indices in {} partitions", DataParallelTraining.label(
                    job.precision(), job.workers()), spark.version(), spark.master(), indices.size(), job.workers());
            // slices of equal length: partition r is exactly rank r's part of the list
            List<RunResult> results = SparkDataParallel.builder().workers(job.workers())
                    .timeout(DataParallelTraining.COLLECTIVE_TIMEOUT).build()
                    .run(spark.parallelize(indices, job.workers()), (collective, partition) -> trainRank(job, collective, partition));
            return results.get(0);
        }
    }

    /** One barrier task: trains its rank on its partition's sample indices; rank 0 returns its result. */
    private static RunResult trainRank(Job job, Collective collective, Iterator<Integer> partition) {
        DataParallelTraining.Setup s = job.setup();
        CommonOptions common = job.common();
        var mine = fromIndices(s.data().train(), partition, job.batch() / job.workers(),
                DataParallelTraining.stepsPerEpoch(s, common));
        RunResult r = DataParallelTraining.runRank(s, job.precision(), common, collective, mine, Path.of(job.outDir()),
                LoggerFactory.getLogger(SparkTraining.class));
        return collective.rank() == 0 ? r : null;
    }

    /**
     * The sample indices of every rank, rank 0's first: rank {@code r}'s are, epoch after epoch
     * and step after step, samples {@code [r * micro, (r + 1) * micro)} of each global batch of
     * the shuffle {@link DataParallelTraining#shuffle} draws (the in-process workers' slices). The
     * shuffle is reproduced by drawing batches of a dataset whose one feature is the sample's
     * index: a permutation depends only on the size and the generator.
     */
    static List<Integer> rankMajorIndices(int size, int batch, int workers, int perEpoch, int epochs,
                                          CommonOptions common) {
        float[] index = new float[size];
        for (int i = 0; i < size; i++) {
            index[i] = i; // exact: sizes here are far below 2^24
        }
        Dataset positions = Dataset.of(index, new int[size], new int[] {1}, 1);
        int micro = batch / workers;
        int[][] ranks = new int[workers][perEpoch * epochs * micro];
        int at = 0;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            int done = 0;
            for (Batch b : positions.batches(batch, DataParallelTraining.shuffle(common, epoch))) {
                if (done == perEpoch || b.size() < batch) {
                    break;
                }
                for (int r = 0; r < workers; r++) {
                    for (int i = 0; i < micro; i++) {
                        ranks[r][at + i] = (int) b.features()[r * micro + i];
                    }
                }
                at += micro;
                done++;
            }
        }
        List<Integer> out = new ArrayList<>(workers * ranks[0].length);
        for (int[] r : ranks) {
            Arrays.stream(r).forEach(out::add);
        }
        return out;
    }

    /** A rank's micro-batches from its partition of sample indices: {@code perEpoch} of {@code micro} per epoch. */
    static DataParallelTraining.RankBatches fromIndices(Dataset train, Iterator<Integer> partition, int micro,
                                                        int perEpoch) {
        return epoch -> new Iterator<>() {
            private int left = perEpoch;

            @Override
            public boolean hasNext() {
                return left > 0;
            }

            @Override
            public Batch next() {
                if (left == 0) {
                    throw new NoSuchElementException();
                }
                left--;
                int f = train.featureSize();
                float[] features = new float[micro * f];
                int[] labels = new int[micro];
                for (int i = 0; i < micro; i++) {
                    if (!partition.hasNext()) {
                        throw new IllegalStateException("SparkTraining: the partition ran out of sample indices in "
                                + "epoch " + epoch);
                    }
                    int sample = partition.next();
                    System.arraycopy(train.features(sample), 0, features, i * f, f);
                    labels[i] = train.label(sample);
                }
                return new Batch(features, labels, micro, train.featureShape());
            }
        };
    }
}
