package dev.ikd.runlog;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.CausalTransformer;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.core.train.Presets;
import dev.ikd.core.text.LmData;
import dev.ikd.core.train.StepListener;
import dev.ikd.learning.blocks.TeacherBlocks;
import dev.ikd.learning.data.RunData;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Finish;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Position;
import dev.ikd.runtime.processor.Input;
import dev.ikd.student.LmStudent;
import dev.ikd.student.LmStudentLearner;
import dev.ikd.student.Relearner;
import dev.ikd.student.StudentLearner;
import dev.ikd.student.StudentSettings;
import dev.ikd.student.protocol.StudentMachine;

/**
 * A student rebuilt from a run's log (docs/architecture.md §8): its own machine, fed the logged
 * admission and soft targets in order, with no teacher running. What {@code ikd replay} checks and
 * trains from, and what {@code ikd export} writes.
 */
public final class Replay {

    private Replay() {
    }

    /** What replaying one student found: steps replayed, whether the whole run checked out, and the line that says so. */
    public record Verdict(long replayed, boolean verified, String line) {
    }

    /** {@link #verify} for each student, in parallel: one thread each, up to the cores. */
    public static List<Verdict> verifyAll(RunLog log, List<String> students, Dataset data) throws InterruptedException,
            ExecutionException {
        var pool = Executors.newFixedThreadPool(Math.max(1, Math.min(students.size(),
            Runtime.getRuntime().availableProcessors())));
        try {
            List<Future<Verdict>> futures = new ArrayList<>();
            for (String id : students) {
                futures.add(pool.submit(() -> verify(log, id, data)));
            }
            List<Verdict> verdicts = new ArrayList<>();
            for (var f : futures) {
                verdicts.add(f.get());
            }
            return verdicts;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One student's trajectory against its log, on the calling thread with arrays of its own: every
     * step's parameter hash against the logged exam result's. A log that stops before the planned
     * steps is not verified, however well its steps match.
     */
    public static Verdict verify(RunLog log, String id, Dataset data) {
        Envelope enrollment = log.enrollment(id);
        List<RunLog.Step> steps = log.steps(id);
        long planned = enrollment.getEnrollment().getHyperParameters().getSteps();
        try (NDManager manager = NDManager.newBaseManager(); Relearner student = relearner(log, id, enrollment, data, planned, manager)) {
            long replayed = 0;
            for (RunLog.Step s : steps) {
                String hash = student.relearnCourse(s.softTargets());
                String logged = s.examResult().getExamResult().getParamSha256();
                replayed++;
                if (!hash.equals(logged)) {
                    return new Verdict(replayed, false, String.format("%s: diverges at step %d: replayed %s, logged %s", id, s.step(),
                        hash, logged));
                }
            }
            if (steps.size() < planned) {
                return new Verdict(replayed, false, String.format("incomplete: %s stops at step %d of %d (the %d steps before it "
                    + "match the log)", id, steps.size(), planned, steps.size()));
            }
            return new Verdict(replayed, true, String.format("%s: %d of %d steps verified, every hash matches the log%s", id,
                steps.size(), planned, steps.isEmpty() ? "" : " (final " + student.parameterHash() + ")"));
        }
    }

    /** Student {@code id} as it enrolled, fresh: a classifier, or a language model (its model a {@code gpt:} spec). */
    static Relearner relearner(RunLog log, String id, Envelope enrollment, Dataset data, long planned, NDManager manager) {
        return isLanguageModel(enrollment) ? LmStudentLearner.fresh(languageModelSettings(id, enrollment, data, planned), manager)
            : replayed(log, settingsOf(id, enrollment, data, null, null, planned), manager);
    }

    /** A language model's student as it enrolled: its {@code gpt:} model, the run's data cut at its context, its course settings. */
    static StudentSettings languageModelSettings(String id, Envelope enrollment, Dataset data, long steps) {
        var en = enrollment.getEnrollment();
        var hp = en.getHyperParameters();
        LmData lm = LmData.of(data);
        return StudentSettings.languageModel(id, LmStudent.of(CausalTransformer.parse(en.getStudentModel().getOptionsOrDefault("spec", ""),
                lm.vocab()), lm, hp.getSoftTargets()), data, new StudentConfig(hp.getLearningRate(), hp.getMomentum(), hp.getTemperature(),
                hp.getAlpha()), hp.getSeed(), hp.getBatchSize(), steps, en.getDataset().getSplitSeed(), TeacherMode.parse(hp.getTeacherMode()),
            Math.max(1, hp.getPrefetch()));
    }

    /** Whether the student of {@code enrollment} is a language model (export and offline training take classifiers only). */
    static boolean isLanguageModel(Envelope enrollment) {
        return "gpt".equals(enrollment.getEnrollment().getStudentModel().getFamily());
    }

    /**
     * Student {@code id} as it finished: every logged course step replayed. Refused when the log
     * stops before the planned steps, or when the rebuilt student does not end on the hash its
     * report (or its last exam result) names. The caller closes the machine.
     */
    public static StudentLearner finished(RunLog log, String id, Dataset data, NDManager manager) {
        Envelope enrollment = log.enrollment(id);
        if (isLanguageModel(enrollment)) {
            throw new IllegalArgumentException(id + " of run " + log.runId() + " is a language model (see finishedLanguageModel)");
        }
        List<RunLog.Step> steps = finishedSteps(log, id);
        StudentLearner student = replayed(log, settingsOf(id, enrollment, data, null, null, steps.size()), manager);
        try {
            replayAll(log, id, steps, student);
            return student;
        } catch (RuntimeException e) {
            student.close();
            throw e;
        }
    }

    /**
     * A language model's student {@code id} as it finished, every logged course step replayed and
     * checked as {@link #finished} checks a classifier. The caller closes it.
     */
    public static LmStudentLearner finishedLanguageModel(RunLog log, String id, Dataset data, NDManager manager) {
        List<RunLog.Step> steps = finishedSteps(log, id);
        LmStudentLearner student = LmStudentLearner.fresh(languageModelSettings(id, log.enrollment(id), data, steps.size()), manager);
        try {
            replayAll(log, id, steps, student);
            return student;
        } catch (RuntimeException e) {
            student.close();
            throw e;
        }
    }

    /** The logged steps of {@code id}, refused unless they are all it planned. */
    private static List<RunLog.Step> finishedSteps(RunLog log, String id) {
        List<RunLog.Step> steps = log.steps(id);
        long planned = log.enrollment(id).getEnrollment().getHyperParameters().getSteps();
        if (steps.size() < planned) {
            throw new IllegalArgumentException(id + " of run " + log.runId() + " stops at step " + steps.size() + " of " + planned
                + " in the log; export takes a student that finished");
        }
        return steps;
    }

    /** Every logged course step of {@code id}, then its hash against the one its report (or its last exam result) names. */
    private static void replayAll(RunLog log, String id, List<RunLog.Step> steps, Relearner student) {
        for (RunLog.Step s : steps) {
            student.relearnCourse(s.softTargets());
        }
        Envelope report = log.reports().get(id);
        String logged = report != null ? report.getStudentReport().getParamSha256()
            : steps.get(steps.size() - 1).examResult().getExamResult().getParamSha256();
        if (!student.parameterHash().equals(logged)) {
            throw new IllegalStateException(id + " rebuilt from the log ends on " + student.parameterHash() + ", but the log "
                + "names " + logged + "; run 'ikd replay --verify' to find the step that differs");
        }
    }

    /**
     * A new student of {@code spec} and {@code seed}, trained offline on the soft targets {@code source}
     * received, on the same data terms; its report (test accuracy, hash) as a student's machine writes it.
     */
    public static Envelope trainOffline(RunLog log, String source, Dataset data, ModelSpec spec, long seed, NDManager manager) {
        List<RunLog.Step> steps = log.steps(source);
        if (isLanguageModel(log.enrollment(source))) {
            throw new IllegalArgumentException(source + " of run " + log.runId() + " is a language model: --train-student trains "
                + "classifiers from the log");
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException(source + " has no complete step in the log of run " + log.runId());
        }
        String id = offlineId(spec);
        StudentSettings settings = settingsOf(id, log.enrollment(source), data, spec, seed, steps.size());
        StudentLearner learner = replayed(log, settings, manager);
        try (StudentMachine student = new StudentMachine(settings.machine(log.runId()), learner)) { // closes the learner
            student.apply(input(log.admitted(source).orElseThrow()));
            for (RunLog.Step s : steps) {
                learner.relearnCourse(s.softTargets());
            }
            return student.apply(input(Envelopes.header(log.runId(), id, steps.size(), Kind.FINISH, "replay", Clock.systemUTC())
                .setFinish(Finish.newBuilder().setReason("replayed")).build())).get(0);
        }
    }

    /** The name an offline student goes by: {@code offline-} and its spec. */
    public static String offlineId(ModelSpec spec) {
        return "offline-" + spec.toString().replace(':', '-');
    }

    /** A logged envelope as the machine's input (where it was read does not matter to a student). */
    static Input input(Envelope e) {
        return new Input(e, new Position("replay", 0, e.getStep()), e.getEventTimeMs());
    }

    /** A fresh student of {@code settings}; with IAKD, holding the teacher's blocks as the log recorded them. */
    static StudentLearner replayed(RunLog log, StudentSettings settings, NDManager manager) {
        StudentLearner student = StudentLearner.fresh(settings, StepListener.NONE, manager);
        if (settings.swap().enabled()) {
            try (NDManager scope = manager.newSubManager()) {
                student.useTeacherBlocks(TeacherBlocks.assemble(log.runId(), log.teacherBlocks(),
                    Network.build(settings.teacherSpec(), settings.data()), settings.type(), scope));
            } catch (RuntimeException e) {
                student.close();
                throw e;
            }
        }
        return student;
    }

    /** The student as it enrolled; with {@code spec} and {@code seed} a new one on the same data terms. */
    static StudentSettings settingsOf(String id, Envelope enrollment, Dataset data, ModelSpec spec, Long seed, long steps) {
        var en = enrollment.getEnrollment();
        var hp = en.getHyperParameters();
        SwapSchedule swap = hp.getSwap().isEmpty() ? SwapSchedule.OFF : SwapSchedule.parse(hp.getSwap());
        ModelSpec teacher = null;
        if (swap.enabled()) {
            if (!en.hasTeacherModel()) {
                throw new IllegalArgumentException(id + " swapped teacher stages (IAKD, --swap " + hp.getSwap() + "), but its "
                    + "enrollment does not name the teacher's model (a log written before ikd carried it)");
            }
            teacher = RunData.model(en.getTeacherModel());
        }
        var d = en.getDataset();
        return new StudentSettings(id, data, spec != null ? spec : RunData.model(en.getStudentModel()),
            new StudentConfig(hp.getLearningRate(), hp.getMomentum(), hp.getTemperature(), hp.getAlpha()),
            seed != null ? seed : hp.getSeed(), hp.getBatchSize(), hp.getExamBatchSize(), steps, d.getSplitSeed(),
            d.getLabelFraction(), d.getQuizFraction(), TeacherMode.parse(hp.getTeacherMode()),
            Presets.forSource(RunData.source(d)).type(), swap, teacher, Math.max(1, hp.getPrefetch()),
            hp.getTeachersCount() == 0 ? List.of("") : hp.getTeachersList(),
            hp.getTeachersCount() == 0 ? TeacherWeighting.EQUAL : TeacherWeighting.parse(hp.getTeacherWeighting()),
            hp.getTeachersRequired() == 0 ? Math.max(1, hp.getTeachersCount()) : hp.getTeachersRequired(), hp.getPilot());
    }
}
