package dev.ikd.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.coordinator.service.CoordinatorVerticle;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import dev.ikd.core.train.TrainResult;
import dev.ikd.proto.v1.StudentReport;
import dev.ikd.runtime.KafkaTuning;
import dev.ikd.runtime.StateDir;
import dev.ikd.student.StudentVerticle;
import dev.ikd.teacher.TeacherVerticle;
import io.vertx.core.Future;

/**
 * A whole distributed run in one process: coordinator, teacher and students as separate verticles
 * that talk only through Kafka at {@code bootstrap}. What {@code ikd local} and
 * {@code ikd bench overhead} run.
 */
final class LocalRun {

    /** How long a CourseStart may wait for its answers before the coordinator re-issues it. */
    static final long TIMEOUT_MS = 30_000;

    private LocalRun() {
    }

    record Outcome(String runId, double wallSeconds, List<TrainResult.StudentResult> students) {
    }

    static Outcome run(TrainConfig c, Dataset data, Params teacher, String bootstrap, String runId, ServiceHost host,
                       NDManager manager, long timeoutSeconds) {
        return run(c, data, teacher, bootstrap, runId, host, manager, timeoutSeconds, KafkaTuning.defaults(), null);
    }

    static Outcome run(TrainConfig c, Dataset data, Params teacher, String bootstrap, String runId, ServiceHost host,
                       NDManager manager, long timeoutSeconds, KafkaTuning tuning, Path stateBase) {
        return run(c, data, teacher, bootstrap, runId, host, manager, timeoutSeconds, tuning, stateBase, -1);
    }

    /**
     * @param stateBase    where every service checkpoints (and resumes from), or null for state in memory only
     * @param microBatchMs the teacher's micro-batching window (-1: off, the feature cache serves the shared backbone)
     */
    static Outcome run(TrainConfig c, Dataset data, Params teacher, String bootstrap, String runId, ServiceHost host,
                       NDManager manager, long timeoutSeconds, KafkaTuning tuning, Path stateBase, long microBatchMs) {
        Services.requireDistributable(c);
        Services.ensureTopics(bootstrap, 4);
        var coordinator = new CoordinatorVerticle(Services.bus(bootstrap, runId, "coordinator", "coordinator", tuning),
            Services.coordinator(c, data, TIMEOUT_MS, c.students()), host.metrics("coordinator"));
        host.deploy(coordinator, coordinator::health);
        var teacherVerticle = new TeacherVerticle(Services.bus(bootstrap, runId, "teacher", "teacher", tuning),
            Services.teacher(c, data, teacher, 0, microBatchMs), host.metrics("teacher"), manager, state(stateBase, runId, "teacher"));
        host.deploy(teacherVerticle, teacherVerticle::health);
        long t0 = System.nanoTime();
        List<StudentVerticle> students = new ArrayList<>();
        for (int i = 0; i < c.students(); i++) {
            String id = Services.studentId(i);
            var s = new StudentVerticle(Services.bus(bootstrap, runId, id, "student-" + id, tuning), Services.student(c, data, i),
                host.metrics("student"), manager, state(stateBase, runId, id));
            host.deploy(s, s::health);
            students.add(s);
        }
        List<Future<StudentReport>> reports = students.stream().map(StudentVerticle::finished).toList();
        ServiceHost.await(Future.all(reports), timeoutSeconds, "run " + runId + " to finish");
        double wall = (System.nanoTime() - t0) / 1e9;
        List<TrainResult.StudentResult> results = new ArrayList<>();
        for (int i = 0; i < reports.size(); i++) {
            StudentReport r = reports.get(i).result();
            results.add(new TrainResult.StudentResult(Services.studentId(i), r.getSteps(), r.getTestAccuracy(), r.getParamSha256()));
        }
        ServiceHost.await(coordinator.ended(), 60, "the coordinator to end run " + runId);
        ServiceHost.await(teacherVerticle.ended(), 60, "the teacher to hear that run " + runId + " ended");
        return new Outcome(runId, wall, results);
    }

    private static StateDir state(Path base, String runId, String serviceId) {
        return base == null ? null : StateDir.of(base, runId, serviceId);
    }
}
