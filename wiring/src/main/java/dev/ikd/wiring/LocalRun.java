package dev.ikd.wiring;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.coordinator.protocol.CoordinatorMachine;
import dev.ikd.coordinator.service.CoordinatorVerticle;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.StepListener;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.proto.topics.Acls;
import dev.ikd.proto.topics.TopicSettings;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.student.StudentSettings;
import dev.ikd.student.StudentVerticle;
import dev.ikd.teacher.TeacherService;
import dev.ikd.teacher.TeacherVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;

/**
 * A whole distributed run in one process: coordinator, teacher and students as separate verticles
 * that talk only through Kafka. What {@code ikd local} and the benchmarks run. If any service has
 * to stop (crash-only), the run fails with its reason and the process should end; started again
 * with the same state directory, it resumes.
 */
public final class LocalRun {

    /** How long a CourseStart may wait for its answers before the coordinator re-issues it. */
    static final long TIMEOUT_MS = 30_000;

    private LocalRun() {
    }

    /** @param reports each student's report as it sent it, by id (a language model's perplexity is there) */
    public record Outcome(String runId, double wallSeconds, List<TrainResult.StudentResult> students, TeacherVerticle teacher,
                          java.util.Map<String, StudentReport> reports) {
    }

    public static Outcome run(TrainConfig c, Dataset data, Params teacher, Services.Wiring wiring, ServiceHost host, NDManager manager,
                       long timeoutSeconds) {
        return run(c, data, teacher, wiring, host, manager, timeoutSeconds, -1, StepListener.NONE);
    }

    /**
     * @param microBatchMs the teacher's micro-batching window (-1: off, the feature cache serves the shared backbone)
     * @param progress     hears every student's steps (a progress line), besides the services' metrics
     */
    public static Outcome run(TrainConfig c, Dataset data, Params teacher, Services.Wiring wiring, ServiceHost host, NDManager manager,
                       long timeoutSeconds, long microBatchMs, StepListener progress) {
        return run(c, data, List.of(teacher), wiring, host, manager, timeoutSeconds, microBatchMs, progress);
    }

    /**
     * As above, with every teacher of {@code c.teachers()}, each a service of its own: {@code teachers}
     * their parameters, in order.
     */
    public static Outcome run(TrainConfig c, Dataset data, List<Params> teachers, Services.Wiring wiring, ServiceHost host,
                              NDManager manager, long timeoutSeconds, long microBatchMs, StepListener progress) {
        Services.requireDistributable(c);
        List<TeacherService.Settings> teacherSettings = new ArrayList<>();
        for (int k = 0; k < c.teachers().count(); k++) {
            teacherSettings.add(Services.teacher(c, data, k, teachers.get(k), 0, microBatchMs));
        }
        List<StudentSettings> studentSettings = new ArrayList<>();
        for (int i = 0; i < c.students(); i++) {
            studentSettings.add(Services.student(c, data, i, wiring.prefetch()));
        }
        return run(Services.coordinator(c, data, TIMEOUT_MS, CoordinatorMachine.Settings.MAX_NUDGES, c.students()), teacherSettings,
            studentSettings, wiring, host, manager, timeoutSeconds, progress);
    }

    /** A run of these services: one coordinator, each teacher and each student a service of its own. */
    public static Outcome run(CoordinatorMachine.Settings coordinatorSettings, List<TeacherService.Settings> teachers,
                              List<StudentSettings> studentSettings, Services.Wiring wiring, ServiceHost host, NDManager manager,
                              long timeoutSeconds, StepListener progress) {
        Services.ensureTopics(wiring.admin(), TopicSettings.defaults());
        String runId = wiring.runId();
        var coordinator = new CoordinatorVerticle(wiring.config("coordinator", "coordinator"), coordinatorSettings,
            host.metrics("coordinator"));
        host.deploy(coordinator, coordinator::health);
        List<TeacherVerticle> teacherVerticles = new ArrayList<>();
        for (TeacherService.Settings settings : teachers) {
            String id = settings.teacherId();
            var t = new TeacherVerticle(wiring.config(id, id), settings, host.metrics(id), manager);
            host.deploy(t, t::health);
            teacherVerticles.add(t);
        }
        TeacherVerticle teacherVerticle = teacherVerticles.get(0);
        long t0 = System.nanoTime();
        List<StudentVerticle> students = new ArrayList<>();
        for (StudentSettings settings : studentSettings) {
            String id = settings.studentId();
            var s = new StudentVerticle(wiring.config(id, Acls.studentGroup(id)), settings, host.metrics("student"), manager, progress);
            host.deploy(s, s::health);
            students.add(s);
        }
        List<Future<StudentReport>> reports = students.stream().map(StudentVerticle::finished).toList();
        // Any service that stops ends the wait with its reason: crash-only, the whole run stops with it.
        Promise<Void> done = Promise.promise();
        Future.all(reports).onComplete(all -> {
            if (all.succeeded()) {
                done.tryComplete();
            } else {
                done.tryFail(all.cause());
            }
        });
        coordinator.ended().onFailure(done::tryFail);
        teacherVerticles.forEach(t -> t.ended().onFailure(done::tryFail));
        ServiceHost.await(done.future(), timeoutSeconds, "run " + runId + " to finish");
        double wall = (System.nanoTime() - t0) / 1e9;
        List<TrainResult.StudentResult> results = new ArrayList<>();
        java.util.Map<String, StudentReport> reportsById = new java.util.LinkedHashMap<>();
        for (int i = 0; i < reports.size(); i++) {
            StudentReport r = reports.get(i).result();
            results.add(new TrainResult.StudentResult(studentSettings.get(i).studentId(), r.getSteps(), r.getTestAccuracy(),
                r.getParamSha256()));
            reportsById.put(studentSettings.get(i).studentId(), r);
        }
        ServiceHost.await(coordinator.ended(), 60, "the coordinator to end run " + runId);
        for (TeacherVerticle t : teacherVerticles) {
            ServiceHost.await(t.ended(), 60, "the teacher to hear that run " + runId + " ended");
        }
        return new Outcome(runId, wall, results, teacherVerticle, reportsById);
    }
}
