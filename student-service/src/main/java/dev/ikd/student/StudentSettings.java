package dev.ikd.student;

import java.security.PublicKey;
import java.util.List;

import ai.djl.ndarray.types.DataType;
import com.google.protobuf.ByteString;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.learn.SwapSchedule;
import dev.ikd.core.learn.TeacherMode;
import dev.ikd.core.learn.TeacherWeighting;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.learning.data.RunData;
import dev.ikd.proto.codec.TargetsForm;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.v1.Enrollment;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.HyperParameters;
import dev.ikd.proto.v1.Kind;
import dev.ikd.student.protocol.StudentMachine;
import dev.ikd.student.protocol.StudentTerms;

/**
 * What one student is: its id, model, course settings, seed (parameters and batches), the data
 * terms it enrolls with, and how it learns from its teacher.
 *
 * @param prefetch steps of a frozen teacher's soft targets that may come ahead
 * @param pilot    MetaDistil's pilot update ({@code --teacher-leash pilot=1}): see {@link StudentTerms#pilot}
 * @param lm       a language model's model, sequences and soft-target encoding (then {@code data} names its sequences and
 *                 {@code spec} is null); null for a classifier
 */
public record StudentSettings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                              int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                              TeacherMode teacherMode, DataType type, SwapSchedule swap, ModelSpec teacherSpec, int prefetch,
                              List<String> teachers, TeacherWeighting weighting, int teachersRequired, boolean pilot, LmStudent lm) {

    public StudentSettings {
        if (lm != null && (teacherMode != TeacherMode.FROZEN && teacherMode != TeacherMode.IKD || pilot || swap.enabled()
            || teachers.size() > 1)) {
            throw new IllegalArgumentException("a language model over Kafka learns from one teacher, frozen or ikd, with no pilot "
                + "update and no stage swapping");
        }
        pilot = pilot && teacherMode.learnsFromFeedback(); // a teacher that does not learn has nothing to update between
        if (prefetch < 1) {
            throw new IllegalArgumentException("--prefetch must be at least 1 step, got " + prefetch);
        }
        teachers = List.copyOf(teachers);
        weighting.checkedFor(teachers.size());
        if (teachersRequired < 1 || teachersRequired > teachers.size()) {
            throw new IllegalArgumentException("--teachers-required " + teachersRequired + ", but the run has " + teachers.size()
                + " teachers");
        }
    }

    /** A classifier. */
    public StudentSettings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                           int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                           TeacherMode teacherMode, DataType type, SwapSchedule swap, ModelSpec teacherSpec, int prefetch,
                           List<String> teachers, TeacherWeighting weighting, int teachersRequired, boolean pilot) {
        this(studentId, data, spec, config, seed, batchSize, examBatchSize, steps, splitSeed, labelFraction, quizFraction,
            teacherMode, type, swap, teacherSpec, prefetch, teachers, weighting, teachersRequired, pilot, null);
    }

    /**
     * A language-model student {@code studentId} of {@code lm}, from {@code seed}, taking {@code steps} course steps of
     * {@code batchSize} sequences from a teacher in mode frozen or ikd; {@code named} is its data as the run names it
     * ({@code LmData.dataset()}, made once for every student).
     */
    public static StudentSettings languageModel(String studentId, LmStudent lm, Dataset named, StudentConfig config, long seed,
                                                int batchSize, long steps, long splitSeed, TeacherMode teacherMode, int prefetch) {
        return new StudentSettings(studentId, named, null, config, seed, batchSize, batchSize, steps, splitSeed, 1.0, 0,
            teacherMode, DataType.FLOAT32, SwapSchedule.OFF, null, prefetch, List.of(""), TeacherWeighting.EQUAL, 1, false, lm);
    }

    /** Without the pilot update. */
    public StudentSettings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                           int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                           TeacherMode teacherMode, DataType type, SwapSchedule swap, ModelSpec teacherSpec, int prefetch,
                           List<String> teachers, TeacherWeighting weighting, int teachersRequired) {
        this(studentId, data, spec, config, seed, batchSize, examBatchSize, steps, splitSeed, labelFraction, quizFraction,
            teacherMode, type, swap, teacherSpec, prefetch, teachers, weighting, teachersRequired, false);
    }

    /** One teacher. */
    public StudentSettings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                           int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                           TeacherMode teacherMode, DataType type, SwapSchedule swap, ModelSpec teacherSpec, int prefetch) {
        this(studentId, data, spec, config, seed, batchSize, examBatchSize, steps, splitSeed, labelFraction, quizFraction,
            teacherMode, type, swap, teacherSpec, prefetch, List.of(""), TeacherWeighting.EQUAL, 1);
    }

    /** Without stage swapping, one step of soft targets at a time. */
    public StudentSettings(String studentId, Dataset data, ModelSpec spec, StudentConfig config, long seed, int batchSize,
                           int examBatchSize, long steps, long splitSeed, double labelFraction, double quizFraction,
                           TeacherMode teacherMode, DataType type) {
        this(studentId, data, spec, config, seed, batchSize, examBatchSize, steps, splitSeed, labelFraction, quizFraction,
            teacherMode, type, SwapSchedule.OFF, null, 1);
    }

    /** How many steps of soft targets may come ahead: a learning teacher's depend on the last feedback, so one. */
    int window() {
        return teacherMode == TeacherMode.FROZEN ? prefetch : 1;
    }

    /** The version of a teacher whose soft targets step k must learn from, {@code missed} steps before k having gone without it. */
    long expectedVersion(long k, long missed) {
        return machine("").expectedVersion(k, missed);
    }

    /** The protocol's terms for this student in run {@code runId}. */
    public StudentTerms machine(String runId) {
        return new StudentTerms(runId, studentId, steps, batchSize, data.classes(), window(),
            teacherMode == TeacherMode.FROZEN, teacherMode == TeacherMode.PESF, teachers, teachersRequired, pilot,
            lm == null ? TargetsForm.classes(data.classes()) : lm.form());
    }

    /**
     * The enrollment request of run {@code runId}, sent at {@code nowUs}: model, data terms and
     * hyper-parameters, registering {@code key} as the one this student signs with (null: the run does not sign).
     */
    public Envelope enrollment(String runId, PublicKey key, long nowUs) {
        Enrollment.Builder enrollment = Enrollment.newBuilder().setStudentModel(lm == null ? RunData.model(spec)
                : dev.ikd.proto.v1.ModelSpec.newBuilder().setFamily("gpt").putOptions("spec", lm.model().spec()).build())
            .setDataset(RunData.spec(data, splitSeed, labelFraction, quizFraction))
            .setHyperParameters(HyperParameters.newBuilder().setLearningRate(config.learningRate()).setMomentum(config.momentum())
                .setTemperature(config.temperature()).setAlpha(config.alpha()).setBatchSize(batchSize)
                .setExamBatchSize(examBatchSize).setSteps(steps).setSeed(seed)
                .setSwap(swap.enabled() ? swap.toString() : "")
                .setTeacherMode(teacherMode.cliName()).setPrefetch(window()).setPilot(pilot)
                .setSoftTargets(lm == null ? "" : lm.encoding()).setContext(lm == null ? 0 : lm.model().context()));
        if (teachers.size() > 1) {
            enrollment.getHyperParametersBuilder().addAllTeachers(teachers).setTeacherWeighting(weighting.toString())
                .setTeachersRequired(teachersRequired);
        }
        if (swap.enabled()) {
            enrollment.setTeacherModel(RunData.model(teacherSpec));
        }
        if (key != null) {
            enrollment.setPublicKey(ByteString.copyFrom(key.getEncoded()));
        }
        return Envelopes.header(runId, studentId, 0, Kind.ENROLLMENT, studentId, nowUs).setEnrollment(enrollment).build();
    }
}
