package dev.mpt.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mpt.core.NoGrad;
import dev.mpt.core.Tensor;
import dev.mpt.core.number.DType;
import dev.mpt.nn.data.Batch;
import dev.mpt.nn.data.Dataset;
import dev.mpt.nn.data.Digits;
import dev.mpt.nn.loss.Losses;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An MLP 64-64-10 learns (8 epochs, batch 32, lr 0.2: 96.4% test accuracy in both precisions when
 * written) the bundled 8x8 digits with a plain SGD loop written here (no optimizer
 * classes), in FP32 and with FP16 weights, activations and gradients updated through FP32 master
 * copies (the paper's scheme; the loss is small enough here that no loss scaling is needed).
 */
class DigitsTrainingTest {

    private static final int EPOCHS = 8;
    private static final float LR = 0.2f;
    private static Dataset train;
    private static Dataset test;

    @BeforeAll
    static void load() {
        Dataset.Split s = Digits.load().split(0.2, 42);
        train = s.train();
        test = s.validation();
    }

    private static double[] trainAndEvaluate(DType dtype) {
        var rng = new SplittableRandom(7);
        var model = new Sequential(new Linear(64, 64, rng), new ReLU(), new Linear(64, 10, rng));
        List<float[]> masters = new ArrayList<>();
        model.parameters().forEach(p -> masters.add(p.value().toFloatArray()));
        model.to(dtype);
        double firstLoss = Double.NaN;
        double lastLoss = 0;
        var order = new SplittableRandom(8);
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            double sum = 0;
            int count = 0;
            for (Batch b : train.batches(32, order)) {
                Tensor loss = Losses.crossEntropy(model.forward(b.flatInputs().to(dtype)), b.labels());
                loss.backward();
                sum += loss.item();
                count++;
                try (NoGrad scope = NoGrad.enter()) {
                    List<Parameter> ps = model.parameters();
                    for (int i = 0; i < ps.size(); i++) {
                        float[] m = masters.get(i);
                        float[] g = ps.get(i).grad().toFloatArray();
                        for (int j = 0; j < m.length; j++) {
                            m[j] -= LR * g[j];
                        }
                        ps.get(i).value().copy_(m); // rounded once to the weights' dtype
                    }
                }
                model.zeroGrad();
            }
            if (epoch == 0) {
                firstLoss = sum / count;
            }
            lastLoss = sum / count;
        }
        int correct = 0;
        try (NoGrad scope = NoGrad.enter()) {
            for (Batch b : test.batches(256)) {
                float[] pred = model.forward(b.flatInputs().to(dtype)).argmax(1, false).toFloatArray();
                for (int i = 0; i < pred.length; i++) {
                    correct += (int) pred[i] == b.labels()[i] ? 1 : 0;
                }
            }
        }
        return new double[] {firstLoss, lastLoss, (double) correct / test.size()};
    }

    @Test
    void mlpLearnsDigitsInFp32AndFp16() {
        double[] fp32 = trainAndEvaluate(DType.FP32);
        double[] fp16 = trainAndEvaluate(DType.FP16);
        assertTrue(fp32[1] < fp32[0] / 4, "FP32 loss falls: " + fp32[0] + " -> " + fp32[1]);
        assertTrue(fp16[1] < fp16[0] / 4, "FP16 loss falls: " + fp16[0] + " -> " + fp16[1]);
        assertTrue(fp32[2] >= 0.95, "FP32 test accuracy " + fp32[2]);
        assertTrue(fp16[2] >= 0.95, "FP16 test accuracy " + fp16[2]);
        // same data order and initial weights: mixed precision ends within 2 points of FP32
        assertEquals(fp32[2], fp16[2], 0.02, "FP16 vs FP32 accuracy");
    }
}
