package dev.mpt.examples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure of mpt's main code, checked on the compiled classes of every module this
 * module sees (mpt-core, mpt-nn, mpt-optim and the examples; mpt-bench depends on them all and
 * nothing depends on it). The rules are generic, so packages added later are covered too:
 * <ul>
 * <li>no cycle among the {@code dev.mpt..} packages (each package is one slice);
 * <li>the kernels ({@code dev.mpt.core.kernel..}) never use the tensor package {@code dev.mpt.core};
 * <li>the leaf packages {@code dev.mpt.core.number} and {@code dev.mpt.core.random} use nothing
 *     but {@code java.*} and themselves.
 * </ul>
 */
class ArchitectureTest {

    private static JavaClasses mpt;

    @BeforeAll
    static void importClasses() {
        mpt = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.mpt");
    }

    @Test
    void mptSeesEveryModule() {
        for (String pkg : new String[] {"dev.mpt.core", "dev.mpt.core.kernel", "dev.mpt.core.number", "dev.mpt.nn",
            "dev.mpt.optim", "dev.mpt.examples"}) {
            if (!mpt.containPackage(pkg)) {
                throw new AssertionError("ArchitectureTest imported no classes of " + pkg
                        + ": the class path lacks a module, so the rules below would pass vacuously");
            }
        }
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.mpt.(**)").should().beFreeOfCycles().check(mpt);
    }

    @Test
    void kernelsDoNotUseTheTensorPackage() {
        noClasses().that().resideInAPackage("dev.mpt.core.kernel..")
                .should().dependOnClassesThat().resideInAPackage("dev.mpt.core")
                .check(mpt);
    }

    @Test
    void numberFormatsUseOnlyTheJdk() {
        classes().that().resideInAPackage("dev.mpt.core.number..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.mpt.core.number..", "")
                .check(mpt);
    }

    @Test
    void randomGeneratorsUseOnlyTheJdk() {
        classes().that().resideInAPackage("dev.mpt.core.random..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.mpt.core.random..", "")
                .check(mpt);
    }

    @Test
    void onlyTheSparkLaunchersUseSpark() {
        // Spark is a provided dependency of mpt-optim and of the examples: any other class touching
        // it would fail with NoClassDefFoundError for users (and example runs) without Spark.
        noClasses().that().resideOutsideOfPackage("dev.mpt.optim.parallel.spark..")
                .and().doNotHaveFullyQualifiedName(SparkTraining.class.getName())
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.spark..", "scala..")
                .check(mpt);
    }
}
