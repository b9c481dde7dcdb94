package dev.ikd.launcher;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering of docs/architecture.md ("Modules"), enforced twice: on the classes (ArchUnit: which
 * packages, and which libraries, each module's code may use) and on the modules themselves (which
 * ikd modules each pom.xml may depend on).
 */
class ArchitectureTest {

    static final String[] OTHER_THAN_CORE = {"dev.ikd.proto..", "dev.ikd.runtime..", "dev.ikd.learning..", "dev.ikd.teacher..",
        "dev.ikd.student..", "dev.ikd.coordinator..", "dev.ikd.broker..", "dev.ikd.launcher.."};

    static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.ikd");
        assertThat(classes.stream().map(c -> c.getPackageName().split("\\.")[2]).distinct())
            .as("every module's classes were found").contains("core", "proto", "runtime", "learning", "teacher", "student",
                "coordinator", "broker", "launcher");
    }

    @Test
    void coreDependsOnNoOtherIkdModuleAndKnowsNothingOfKafkaOrVertx() {
        noClasses().that().resideInAPackage("dev.ikd.core..").should().dependOnClassesThat().resideInAnyPackage(OTHER_THAN_CORE)
            .check(classes);
        noClasses().that().resideInAPackage("dev.ikd.core..").should().dependOnClassesThat()
            .resideInAnyPackage("org.apache.kafka..", "io.vertx..", "com.google.protobuf..").check(classes);
    }

    @Test
    void protoKnowsNeitherTheLearningNorDjl() {
        noClasses().that().resideInAPackage("dev.ikd.proto..").should().dependOnClassesThat()
            .resideInAnyPackage("dev.ikd.core..", "dev.ikd.runtime..", "dev.ikd.learning..", "dev.ikd.teacher..", "dev.ikd.student..",
                "dev.ikd.coordinator..", "ai.djl..").check(classes);
    }

    @Test
    void coordinatorAndRuntimeDoNotDependOnCoreNorOnDjl() {
        noClasses().that().resideInAnyPackage("dev.ikd.coordinator..", "dev.ikd.runtime..").should().dependOnClassesThat()
            .resideInAnyPackage("dev.ikd.core..", "dev.ikd.learning..", "dev.ikd.teacher..", "dev.ikd.student..", "ai.djl..")
            .check(classes);
    }

    @Test
    void teacherAndStudentDoNotDependOnEachOther() {
        noClasses().that().resideInAPackage("dev.ikd.teacher..").should().dependOnClassesThat().resideInAPackage("dev.ikd.student..")
            .check(classes);
        noClasses().that().resideInAPackage("dev.ikd.student..").should().dependOnClassesThat().resideInAPackage("dev.ikd.teacher..")
            .check(classes);
    }

    @Test
    void theStateMachinesHaveNoKafkaAndNoVertxInThem() {
        noClasses().that().haveSimpleName("StudentMachine").or().haveSimpleName("TeacherMachine").or()
            .haveSimpleName("CoordinatorMachine").or().haveSimpleName("Protocol").should().dependOnClassesThat()
            .resideInAnyPackage("org.apache.kafka..", "io.vertx..").check(classes);
    }

    /** The same rules on the modules: each pom.xml names only the ikd modules its layer may use. */
    @Test
    void everyModuleDependsOnlyOnTheModulesBelowIt() throws Exception {
        Map<String, Set<String>> allowed = Map.of(
            "proto", Set.of(),
            "core", Set.of(),
            "embedded-kafka", Set.of(),
            "runtime", Set.of("proto"),
            "learning-io", Set.of("core", "proto", "runtime"),
            "teacher-service", Set.of("core", "proto", "runtime", "learning-io"),
            "student-service", Set.of("core", "proto", "runtime", "learning-io"),
            "coordinator", Set.of("proto", "runtime"));
        Path root = Tools.projectRoot();
        Map<String, Set<String>> found = new TreeMap<>();
        Pattern ikd = Pattern.compile("<dependency><groupId>dev\\.ikd</groupId><artifactId>ikd-([a-z-]+)</artifactId>(?!.*<scope>test)");
        for (String module : allowed.keySet()) {
            Set<String> deps = new TreeSet<>();
            for (String line : Files.readAllLines(root.resolve(module).resolve("pom.xml"))) {
                Matcher m = ikd.matcher(line.strip());
                if (m.find()) {
                    deps.add(m.group(1));
                }
            }
            found.put(module, deps);
        }
        List<String> wrong = new ArrayList<>();
        found.forEach((module, deps) -> deps.stream().filter(d -> !allowed.get(module).contains(d))
            .forEach(d -> wrong.add(module + " -> " + d)));
        assertThat(wrong).as("module dependencies against the layering").isEmpty();
    }
}
