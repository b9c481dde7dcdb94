package dev.ikd.wiring;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.runtime.Hop;
import dev.ikd.runtime.ServiceMetrics;

/**
 * {@code --hop-log FILE}: every record a process's services handle, as one CSV line with the moments
 * of its hop (microseconds since the epoch, -1 where unknown). What {@code ikd bench overhead
 * --isolation process} reads back from each service's JVM; useful on its own to see where a run's
 * time goes.
 */
public final class HopLog implements ServiceMetrics.Observer, AutoCloseable {

    public static final String HEADER = "service,topic,kind,student,step,sent_us,appended_us,received_us,started_us,applied_us,persisted_us,done_us";

    /** One handled record: who handled it, what it was, and its hop. */
    public record Sample(String service, String topic, Kind kind, String student, long step, Hop hop) {
    }

    private final Path file;
    private final BufferedWriter out;

    public HopLog(Path file) {
        this.file = file;
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            out.write(HEADER);
            out.newLine();
        } catch (IOException e) {
            throw new IllegalArgumentException("--hop-log " + file + ": cannot write it (" + e.getMessage() + ")");
        }
    }

    @Override
    public synchronized void handled(String service, String topic, Envelope e, Hop hop) {
        try {
            out.write(String.join(",", service, topic, e.getKind().name(), e.getStudentId(), Long.toString(e.getStep()),
                Long.toString(hop.sentUs()), Long.toString(hop.appendedUs()), Long.toString(hop.receivedUs()),
                Long.toString(hop.startedUs()), Long.toString(hop.appliedUs()), Long.toString(hop.persistedUs()),
                Long.toString(hop.doneUs())));
            out.newLine();
        } catch (IOException x) {
            throw new UncheckedIOException("cannot append to the hop log " + file, x);
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the hop log " + file, e);
        }
    }

    /** The samples in a hop log; a line that is not one names the file and line. */
    public static List<Sample> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the hop log " + file, e);
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new IllegalArgumentException(file + " is not a hop log (its first line is not '" + HEADER + "')");
        }
        List<Sample> samples = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",", -1);
            try {
                if (f.length != 12) {
                    throw new IllegalArgumentException("12 fields expected, got " + f.length);
                }
                samples.add(new Sample(f[0], f[1], Kind.valueOf(f[2]), f[3], Long.parseLong(f[4]), new Hop(Long.parseLong(f[5]),
                    Long.parseLong(f[6]), Long.parseLong(f[7]), Long.parseLong(f[8]), Long.parseLong(f[9]), Long.parseLong(f[10]), Long.parseLong(f[11]))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": not a hop sample (" + e.getMessage() + ")");
            }
        }
        return samples;
    }
}
