package dev.ikd.core.learn;

import java.util.Locale;

/** What the teacher learns from a student's exams (docs/architecture.md §3). */
public enum TeacherMode {
    /** Nothing: classic KD. */
    FROZEN,
    /** All of φ, from the feedback d; a copy of φ per student. */
    IKD,
    /** A small per-student adapter on a frozen shared backbone, from the feedback d. */
    IKD_ADAPTER,
    /** A per-student adapter from the PESF objective (CE + KL toward the student's course logits). */
    PESF;

    public static TeacherMode parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown teacher mode '" + text + "'; known: frozen, ikd, ikd-adapter, pesf");
        }
    }

    /** Whether the teacher learns from the students' feedback d (every mode but classic KD). */
    public boolean learnsFromFeedback() {
        return this != FROZEN;
    }

    public boolean usesAdapter() {
        return this == IKD_ADAPTER || this == PESF;
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
