package dev.ikd.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.model.Params;
import dev.ikd.core.train.TrainConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Several teachers of one model are several teachers: each is pretrained from its own seed, the first from the run's. */
class SeveralTeachersPretrainTest {

    @Test
    void eachTeacherIsPretrainedFromItsOwnSeedAndTheFirstIsTheRunsOwnTeacher() {
        RunOptions options = CommandLine.populateCommand(new RunOptions(), "--teachers", "3", "--pretrain-steps", "30");
        TrainConfig c = options.toConfig();
        Dataset data = options.loadDataset();
        try (NDManager manager = NDManager.newBaseManager()) {
            List<Params> teachers = Teachers.obtainAll(c, data, null, manager, false);
            List<String> hashes = teachers.stream().map(Params::sha256).toList();
            assertThat(hashes).doesNotHaveDuplicates();
            TrainConfig one = CommandLine.populateCommand(new RunOptions(), "--pretrain-steps", "30").toConfig();
            assertThat(Teachers.obtainAll(one, data, null, manager, false).get(0).sha256()).isEqualTo(hashes.get(0));
            assertThat(Teachers.rows(c, data, teachers, manager)).extracting(Teachers.Row::id)
                .containsExactly("teacher-a", "teacher-b", "teacher-c");
            assertThatThrownBy(() -> Teachers.obtainAll(c, data, java.nio.file.Path.of("teacher.ckpt"), manager, false))
                .hasMessage("--teacher-checkpoint holds one teacher; each of the run's 3 teachers is pretrained from its own seed");
        }
    }
}
