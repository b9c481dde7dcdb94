package dev.ikd.launcher;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
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
        "dev.ikd.student..", "dev.ikd.coordinator..", "dev.ikd.embeddedkafka..", "dev.ikd.dashboard..", "dev.ikd.runlog..", "dev.ikd.wiring..", "dev.ikd.bench..", "dev.ikd.launcher.."};

    static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.ikd");
        assertThat(classes.stream().map(c -> c.getPackageName().split("\\.")[2]).distinct())
            .as("every module's classes were found").contains("core", "proto", "runtime", "learning", "teacher", "student",
                "coordinator", "embeddedkafka", "dashboard", "runlog", "wiring", "bench", "launcher");
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

    /** The dashboard is a projection of the log: it reads messages, never a model. */
    @Test
    void theDashboardKnowsNothingOfTheLearningNorDjl() {
        noClasses().that().resideInAPackage("dev.ikd.dashboard..").should().dependOnClassesThat()
            .resideInAnyPackage("dev.ikd.core..", "dev.ikd.learning..", "dev.ikd.teacher..", "dev.ikd.student..",
                "dev.ikd.coordinator..", "dev.ikd.runtime..", "dev.ikd.launcher..", "ai.djl..").check(classes);
    }

    /** The wiring starts services in JVMs of their own by the launcher's main class, which it can only name. */
    @Test
    void theWiringNamesTheLaunchersMainClass() {
        assertThat(dev.ikd.wiring.ServiceProcess.IKD_MAIN).isEqualTo(Ikd.class.getName());
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

    /**
     * The protocols and machines of the coordinator, the student and the teacher are a function of
     * their inputs: time comes with the input or the tick, learning sits behind a port, and nothing
     * is read from a clock, a file or a model.
     */
    @Test
    void theProtocolsAndMachinesReadNoClockNoFileAndNoModel() {
        var pure = noClasses().that().resideInAnyPackage("dev.ikd.coordinator.protocol..", "dev.ikd.student.protocol..",
            "dev.ikd.teacher.protocol..");
        pure.should().dependOnClassesThat().resideInAnyPackage("java.nio.file..", "java.io..", "ai.djl..", "dev.ikd.core..",
            "dev.ikd.learning..").check(classes);
        pure.should().dependOnClassesThat().haveFullyQualifiedName(java.time.Clock.class.getName()).check(classes);
        pure.should().callMethod(System.class, "nanoTime").orShould().callMethod(System.class, "currentTimeMillis")
            .orShould().callMethod(java.time.Instant.class, "now").check(classes);
        assertThat(classes.stream().filter(c -> c.getPackageName().endsWith(".protocol")).map(c -> c.getSimpleName()))
            .as("the rule sees the machines").contains("CoordinatorMachine", "StudentMachine", "TeacherMachine");
    }

    /**
     * The launcher holds picocli commands, the option groups they mix in and the config file they
     * read defaults from; everything else lives in the module that owns it.
     */
    @Test
    void theLauncherHoldsCommandsOnly() {
        classes().that().resideInAPackage("dev.ikd.launcher..").and().areTopLevelClasses()
            .should(new com.tngtech.archunit.lang.ArchCondition<com.tngtech.archunit.core.domain.JavaClass>("be a picocli command, "
                + "an option group of commands or the config file's default provider") {
                @Override
                public void check(com.tngtech.archunit.core.domain.JavaClass c, com.tngtech.archunit.lang.ConditionEvents events) {
                    boolean command = c.isAnnotatedWith(picocli.CommandLine.Command.class);
                    boolean defaults = c.isAssignableTo(picocli.CommandLine.IDefaultValueProvider.class);
                    boolean options = !c.getFields().isEmpty() && c.getFields().stream().filter(f -> !f.getModifiers()
                            .contains(com.tngtech.archunit.core.domain.JavaModifier.STATIC))
                        .allMatch(f -> f.isAnnotatedWith(picocli.CommandLine.Option.class));
                    if (!command && !defaults && !options) {
                        events.add(com.tngtech.archunit.lang.SimpleConditionEvent.violated(c, c.getName() + " is neither a command, "
                            + "an option group nor the config file"));
                    }
                }
            }).check(classes);
    }

    /** Small parts: no main source file over 500 lines, the launcher's commands in at most 2,000 lines. */
    @Test
    void noMainSourceFileIsOver500LinesAndTheLauncherIsThin() throws Exception {
        Path root = Tools.projectRoot();
        Map<String, Long> tooLong = new TreeMap<>();
        long launcher = 0;
        int files = 0;
        try (var walk = Files.walk(root)) {
            for (Path f : walk.filter(p -> p.toString().endsWith(".java") && p.toString().contains(java.io.File.separator + "src"
                + java.io.File.separator + "main" + java.io.File.separator) && !p.toString().contains(java.io.File.separator
                + "target" + java.io.File.separator)).toList()) {
                long lines;
                try (var l = Files.lines(f)) {
                    lines = l.count();
                }
                files++;
                if (lines > 500) {
                    tooLong.put(root.relativize(f).toString(), lines);
                }
                if (root.relativize(f).startsWith("launcher")) {
                    launcher += lines;
                }
            }
        }
        assertThat(files).as("main source files found").isGreaterThan(100);
        assertThat(tooLong).as("main source files over 500 lines").isEmpty();
        assertThat(launcher).as("lines of the launcher's main code").isPositive().isLessThanOrEqualTo(2_000);
    }

    /**
     * The same rules on the modules, read from each pom.xml as XML: the ikd modules every module
     * uses outside its tests, exactly. A module that gains or loses one, or a pom this cannot read
     * (no dependencies found where some are expected), fails here.
     */
    @Test
    void everyModuleDependsExactlyOnTheModulesBelowItThatItNeeds() throws Exception {
        Map<String, Set<String>> expected = new TreeMap<>(Map.ofEntries(
            Map.entry("proto", Set.of()),
            Map.entry("core", Set.of()),
            Map.entry("embedded-kafka", Set.of()),
            Map.entry("runtime", Set.of("proto")),
            Map.entry("learning-io", Set.of("core", "proto", "runtime")),
            Map.entry("teacher-service", Set.of("core", "runtime", "learning-io")),
            Map.entry("student-service", Set.of("core", "runtime", "learning-io")),
            Map.entry("coordinator", Set.of("runtime")),
            Map.entry("dashboard", Set.of("proto")),
            Map.entry("runlog", Set.of("embedded-kafka", "proto", "core", "runtime", "learning-io", "student-service")),
            Map.entry("wiring", Set.of("embedded-kafka", "proto", "core", "runtime", "coordinator", "dashboard", "teacher-service",
                "student-service")),
            Map.entry("benchmarks", Set.of("embedded-kafka", "proto", "core", "runtime", "dashboard", "wiring")),
            Map.entry("launcher", Set.of("embedded-kafka", "proto", "core", "runtime", "learning-io", "coordinator", "dashboard",
                "runlog", "wiring", "benchmarks", "teacher-service", "student-service"))));
        Path root = Tools.projectRoot();
        Map<String, Set<String>> found = new TreeMap<>();
        var factory = javax.xml.parsers.DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        for (String module : expected.keySet()) {
            var pom = factory.newDocumentBuilder().parse(root.resolve(module).resolve("pom.xml").toFile());
            var project = pom.getDocumentElement();
            Set<String> deps = new TreeSet<>();
            for (var section : children(project, "dependencies")) {
                for (var dep : children(section, "dependency")) {
                    String group = text(dep, "groupId");
                    String artifact = text(dep, "artifactId");
                    String scope = text(dep, "scope");
                    if ("dev.ikd".equals(group) && !"test".equals(scope)) {
                        assertThat(artifact).as(module + " depends on " + artifact).startsWith("ikd-");
                        deps.add(artifact.substring("ikd-".length()));
                    }
                }
            }
            found.put(module, deps);
        }
        assertThat(found).isEqualTo(expected);
        assertThat(found.values().stream().mapToInt(Set::size).sum()).as("ikd dependencies read from the poms").isEqualTo(44);
        assertThat(diagramInArchitectureDoc(root)).as("the module diagram of docs/architecture.md §1").isEqualTo(expected);
    }

    /** The edges of the {@code flowchart BT} Mermaid block: {@code id[module<br/>...] --> id & id}. */
    private static Map<String, Set<String>> diagramInArchitectureDoc(Path root) throws Exception {
        String doc = Files.readString(root.resolve("docs").resolve("architecture.md"));
        int start = doc.indexOf("```mermaid\nflowchart BT\n");
        assertThat(start).as("a module diagram in docs/architecture.md").isNotNegative();
        String block = doc.substring(start, doc.indexOf("\n```", start + 10));
        Map<String, String> modules = new TreeMap<>();
        Matcher node = Pattern.compile("(\\w+)\\[([\\w-]+)").matcher(block);
        while (node.find()) {
            modules.put(node.group(1), node.group(2));
        }
        Map<String, Set<String>> edges = new TreeMap<>();
        for (String line : block.split("\n")) {
            Matcher m = Pattern.compile("^\\s*(\\w+)(\\[[^\\]]*\\])?\\s*(-->\\s*(.*))?$").matcher(line);
            if (m.matches() && modules.containsKey(m.group(1))) {
                Set<String> to = edges.computeIfAbsent(modules.get(m.group(1)), k -> new TreeSet<>());
                if (m.group(4) != null) {
                    for (String id : m.group(4).split("&")) {
                        assertThat(modules).as("a node named " + id.strip()).containsKey(id.strip());
                        to.add(modules.get(id.strip()));
                    }
                }
            }
        }
        return edges;
    }

    private static List<org.w3c.dom.Element> children(org.w3c.dom.Element parent, String name) {
        List<org.w3c.dom.Element> out = new ArrayList<>();
        for (var n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof org.w3c.dom.Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(org.w3c.dom.Element parent, String name) {
        List<org.w3c.dom.Element> e = children(parent, name);
        return e.isEmpty() ? null : e.get(0).getTextContent().strip();
    }
}
