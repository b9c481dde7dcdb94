package dev.ikd.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/** How {@code ikd bench teachers} sums its runs up: medians, and ratios taken within a repeat. */
class TeachersBenchTest {

    static JsonObject run(int teachers, int repeat, double ms, boolean same) {
        JsonObject o = new JsonObject();
        o.addProperty("teachers", teachers);
        o.addProperty("repeat", repeat);
        o.addProperty("ms_per_step", ms);
        o.addProperty("same_hashes", same);
        return o;
    }

    @Test
    void eachCountsRatioIsTheMedianOfItsRatiosToTheBaselineOfTheSameRepeat() {
        JsonArray rows = new JsonArray();
        // Repeat 0 is slow for every count (a busy machine): its ratios still count, its times do not skew them.
        for (JsonObject o : List.of(run(1, 0, 80, true), run(2, 0, 120, true), run(3, 0, 160, true),
            run(1, 1, 30, true), run(2, 1, 48, true), run(3, 1, 66, true),
            run(1, 2, 32, true), run(2, 2, 40, true), run(3, 2, 64, false))) {
            rows.add(o);
        }
        JsonArray summary = TeachersBench.summarise(rows, List.of(1, 2, 3));
        JsonObject one = summary.get(0).getAsJsonObject();
        JsonObject two = summary.get(1).getAsJsonObject();
        JsonObject three = summary.get(2).getAsJsonObject();
        assertThat(one.get("ratio").getAsDouble()).isEqualTo(1.0);
        assertThat(one.get("ms_per_step").getAsDouble()).isEqualTo(32.0);
        assertThat(two.get("ratio").getAsDouble()).isEqualTo(1.5); // 1.5, 1.6, 1.25
        assertThat(two.get("ms_per_step").getAsDouble()).isEqualTo(48.0);
        assertThat(three.get("ratio").getAsDouble()).isEqualTo(2.0); // 2.0, 2.2, 2.0
        assertThat(three.get("same_hashes").getAsBoolean()).as("one run off the in-process hashes").isFalse();
        assertThat(two.get("same_hashes").getAsBoolean()).isTrue();
    }
}
