package dev.ikd.launcher.service;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.launcher.ConfigFile;
import dev.ikd.proto.topics.Acls;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.student.StudentVerticle;
import dev.ikd.wiring.RunOptions;
import dev.ikd.wiring.ServiceHost;
import dev.ikd.wiring.ServiceOptions;
import dev.ikd.wiring.LanguageModelRun;
import dev.ikd.wiring.LanguageModels;
import dev.ikd.wiring.Services;
import dev.ikd.wiring.StudentProgress;
import dev.ikd.wiring.StudentRange;
import dev.ikd.wiring.StudentReports;
import io.vertx.core.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd student}: one student of a run, or a range of them in one process, against any Kafka cluster. */
@Command(name = "student", mixinStandardHelpOptions = true,
    description = "Run students: enroll, learn every step from the teacher's soft targets, report, exit.")
public final class StudentCommand implements Callable<Integer> {

    @Mixin
    ConfigFile.Flag config;

    @Mixin
    ServiceOptions service;

    @Mixin
    RunOptions run;

    @Mixin
    TopicOptions topics;

    @Option(names = "--index", required = true, paramLabel = "N|FIRST-LAST",
        description = "Which students of the run (0-based): N, or FIRST-LAST (inclusive) to host that range in this process "
            + "(one engine, each student stepping on its own thread). Student N's id is student-N and its seed follows from --seed.")
    String index;

    @Option(names = "--teacher-checkpoint", description = "A language model's run: the teacher's model file (its tokenizer reads the corpus).")
    java.nio.file.Path teacherCheckpoint;

    @Option(names = "--json", description = "Print each student's report as one JSON object per line on stdout.")
    boolean json;

    @Override
    public Integer call() throws java.io.IOException {
        service.validate();
        StudentRange range = StudentRange.parse(index);
        if (LanguageModels.isCorpus(run.dataset)) {
            LanguageModelRun.serveStudents(run, teacherCheckpoint, service, topics.settings(), range.first(), range.last(), json);
            return 0;
        }
        TrainConfig c = run.toConfig();
        Services.requireDistributable(c);
        if (range.last() >= c.students()) {
            throw new IllegalArgumentException("--index " + index + " names student " + range.last() + ", but the run has --students "
                + c.students() + " (0 to " + (c.students() - 1) + ")");
        }
        var data = run.loadDataset();
        Services.ensureTopics(service.kafka(), topics.settings());
        String name = range.first() == range.last() ? Services.studentId(range.first())
            : Services.studentId(range.first()) + ".." + range.last();
        List<String> ids = java.util.stream.IntStream.rangeClosed(range.first(), range.last()).mapToObj(Services::studentId).toList();
        try (NDManager manager = run.newManager(); ServiceHost host = service.newHost(range.size() + 1, null, c.steps());
             StudentProgress progress = new StudentProgress(ids, c.steps(), service.progressEvery)) {
            List<StudentVerticle> students = new ArrayList<>();
            for (int i = range.first(); i <= range.last(); i++) {
                String id = Services.studentId(i);
                var student = new StudentVerticle(service.wiring().config(id, Acls.studentGroup(id)),
                    Services.student(c, data, i, run.prefetch), host.metrics("student"), manager, progress);
                host.deploy(student, student::health);
                students.add(student);
            }
            service.serve(host, name);
            List<Future<StudentReport>> reports = students.stream().map(StudentVerticle::finished).toList();
            ServiceHost.await(Future.all(reports), service.timeoutSeconds, name + " to finish");
            for (int i = 0; i < reports.size(); i++) {
                System.out.println(StudentReports.line(Services.studentId(range.first() + i), reports.get(i).result(), json));
            }
        }
        return 0;
    }
}
