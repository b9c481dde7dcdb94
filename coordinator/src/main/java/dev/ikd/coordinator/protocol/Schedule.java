package dev.ikd.coordinator.protocol;

/** The batches of each step, fixed at admission (a function of student and step, so any step can be re-issued). */
public interface Schedule {

    int[] courseIds(String studentId, long step);

    int[] examIds(String studentId, long step);
}
