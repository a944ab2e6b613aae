package dev.mpt.examples;

import dev.mpt.examples.CommonOptions.PrecisionOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An example that trains one model in the chosen precision, or with {@code --compare} in FP32 and
 * in mixed precision with the same seed: writes the loss curves ({@code loss.png}) and, when
 * comparing, prints the table and writes it to {@code comparison.md}.
 */
public abstract class TrainingExample extends Example {

    /** Trains one run in {@code precision}, writing its CSV files into {@code dir}. */
    protected abstract RunResult train(PrecisionOption precision, Path dir) throws Exception;

    /** The title of the loss chart and table. */
    protected abstract String title();

    @Override
    protected void execute(Path dir) throws Exception {
        List<RunResult> results = new ArrayList<>();
        for (PrecisionOption p : common.runs()) {
            results.add(train(p, dir));
        }
        if (!writesOutputs()) {
            return;
        }
        Map<String, double[][]> curves = new LinkedHashMap<>();
        results.forEach(r -> curves.put(r.label(), r.lossCurve()));
        Charts.lossCurves(dir.resolve("loss.png"), title() + ": training loss", curves);
        ComparisonTable table = ComparisonTable.of(results);
        print(table.markdown());
        if (common.compare()) {
            table.write(dir.resolve("comparison.md"), title() + " (seed " + common.seed() + ")");
        }
    }
}
