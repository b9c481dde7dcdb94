package dev.ikd.student;

import java.util.List;

import dev.ikd.proto.v1.Envelope;

/**
 * A student rebuilt from a run's log (docs/architecture.md §8): each logged step's course step on the
 * soft targets the step learned from, and the parameter hash it ends on. A classifier's
 * ({@link StudentLearner}) or a language model's ({@link LmStudentLearner}).
 */
public interface Relearner extends AutoCloseable {

    /** The next step's course step alone, on the soft targets of each teacher the step used; the hash of θ' after it. */
    String relearnCourse(List<Envelope> targets);

    String parameterHash();

    @Override
    void close();
}
