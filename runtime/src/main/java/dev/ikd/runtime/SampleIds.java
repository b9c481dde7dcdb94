package dev.ikd.runtime;

import dev.ikd.proto.envelope.RejectedMessageException;
import dev.ikd.proto.v1.Samples;

/** Sample ids as a CourseStart carries them, checked against the data set both sides hold. */
public final class SampleIds {

    private SampleIds() {
    }

    /** The ids of {@code samples}; none, or one outside the training set, refuses the message. */
    public static int[] require(Samples samples, int trainSize, String what) {
        int[] ids = samples.getIdsList().stream().mapToInt(Integer::intValue).toArray();
        if (ids.length == 0) {
            throw new RejectedMessageException("CourseStart has no " + what + " samples");
        }
        for (int id : ids) {
            if (id < 0 || id >= trainSize) {
                throw new RejectedMessageException(what + " sample id " + id + " is outside the data set's " + trainSize
                    + " training samples");
            }
        }
        return ids;
    }
}
