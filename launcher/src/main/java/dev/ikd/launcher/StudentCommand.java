package dev.ikd.launcher;

import java.util.concurrent.Callable;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainingListener;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.student.StudentVerticle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ikd student}: one student of a run, against any Kafka cluster. */
@Command(name = "student", mixinStandardHelpOptions = true,
    description = "Run one student: enroll, learn every step from the teacher's soft targets, report, exit.")
final class StudentCommand implements Callable<Integer> {

    @Mixin
    ServiceOptions service;

    @Mixin
    RunOptions run;

    @Option(names = "--index", required = true, description = "Which student of the run (0-based): its id is student-INDEX "
        + "and its seed follows from --seed.")
    int index;

    @Option(names = "--json", description = "Print the report as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        service.validate();
        TrainConfig c = run.toConfig();
        Services.requireDistributable(c);
        if (index < 0) {
            throw new IllegalArgumentException("--index must be >= 0, got " + index);
        }
        var data = run.loadDataset();
        Services.ensureTopics(service.bootstrap, 4);
        String id = Services.studentId(index);
        try (NDManager manager = run.newManager(); ServiceHost host = new ServiceHost(2)) {
            var student = new StudentVerticle(service.wiring().config(id, "student-" + id), Services.student(c, data, index),
                host.metrics("student"), manager, TrainingListener.NONE);
            host.deploy(student, student::health);
            service.serve(host, id);
            StudentReport r = ServiceHost.await(student.finished(), service.timeoutSeconds, id + " to finish");
            if (json) {
                var o = new JsonObject();
                o.addProperty("id", id);
                o.addProperty("steps", r.getSteps());
                o.addProperty("test_accuracy", r.getTestAccuracy());
                o.addProperty("param_sha256", r.getParamSha256());
                System.out.println(o);
            } else {
                System.out.printf("%s: %d steps, test accuracy %.4f, parameter sha256 %s%n", id, r.getSteps(), r.getTestAccuracy(),
                    r.getParamSha256());
            }
        }
        return 0;
    }
}
