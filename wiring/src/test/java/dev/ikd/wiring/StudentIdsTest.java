package dev.ikd.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ikd.core.train.TrainConfig;
import org.junit.jupiter.api.Test;

/**
 * A student's id, and a teacher's of several, is made on the wire (proto, for keys, ACLs and
 * envelopes) and in the learning (core, for the in-process trainer, which knows no proto): the two
 * must name everyone alike, or a distributed run and its in-process reference would compare
 * different students and teachers.
 */
class StudentIdsTest {

    @Test
    void theWireAndTheLearningNameEveryStudentAlike() {
        for (int i : new int[] {0, 1, 9, 10, 99, 1_000, Integer.MAX_VALUE}) {
            assertThat(Services.studentId(i)).isEqualTo(TrainConfig.studentId(i)).startsWith("student-");
        }
        assertThat(Services.studentIds(3)).containsExactly("student-0", "student-1", "student-2");
    }

    @Test
    void theWireAndTheLearningNameEveryTeacherOfSeveralAlike() {
        var models = java.util.Collections.nCopies(26, dev.ikd.core.model.ModelSpec.parse("mlp:32:8"));
        var set = new dev.ikd.core.train.TeacherSet(models, dev.ikd.core.learn.TeacherWeighting.EQUAL);
        for (int k = 0; k < 26; k++) {
            assertThat(set.id(k)).isEqualTo(dev.ikd.proto.envelope.Envelopes.teacherId(k, 26));
            assertThat(dev.ikd.proto.envelope.Envelopes.requireTeacherId(set.id(k))).isEqualTo(set.id(k));
        }
        assertThat(dev.ikd.core.train.TeacherSet.one(models.get(0)).id(0)).isEqualTo(dev.ikd.proto.envelope.Envelopes.teacherId(0, 1))
            .isEmpty();
    }

    @Test
    void bothRefuseANegativeIndexAlike() {
        assertThatThrownBy(() -> Services.studentId(-1)).hasMessage("a student index is >= 0, got -1");
        assertThatThrownBy(() -> TrainConfig.studentId(-1)).hasMessage("a student index is >= 0, got -1");
    }
}
