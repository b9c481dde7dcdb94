package dev.ikd.runtime;

import java.util.Locale;

import dev.ikd.proto.v1.DatasetSpec;

/** How an enrollment's data terms read when the coordinator compares them with the run's. */
public final class Terms {

    private Terms() {
    }

    /** The split parameters that decide which ids are course, quiz and labelled. */
    public static String splits(DatasetSpec d) {
        return String.format(Locale.ROOT, "split seed %d, label fraction %s, quiz fraction %s, %d training samples",
            d.getSplitSeed(), d.getLabelFraction(), d.getQuizFraction(), d.getTrainSize());
    }
}
