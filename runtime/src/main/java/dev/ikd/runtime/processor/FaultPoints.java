package dev.ikd.runtime.processor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Deterministic crashes, for tests: {@code IKD_FAULT=SERVICE:POINT:STEP[,...]} (or the system
 * property {@code ikd.fault}) makes the service {@code SERVICE} halt, as if killed with SIGKILL, when
 * the first record of step {@code STEP} its machine applies (refused ones do not count) reaches {@code POINT}:
 * {@code after-apply} (state changed in memory only), {@code after-checkpoint} (state durable,
 * nothing sent), {@code after-send} (answers, if any, acknowledged; offset not committed) or
 * {@code after-commit}. A restart with the same command (and no fault) must resume exactly.
 */
public final class FaultPoints {

    public static final String ENVIRONMENT = "IKD_FAULT";
    public static final String PROPERTY = "ikd.fault";
    /** The exit status of a halt at a fault point: that of a process killed with SIGKILL. */
    public static final int EXIT_CODE = 137;

    public enum Point {
        AFTER_APPLY, AFTER_CHECKPOINT, AFTER_SEND, AFTER_COMMIT;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Point parse(String s) {
            for (Point p : values()) {
                if (p.cliName().equals(s)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown fault point '" + s + "'; known: after-apply, after-checkpoint, "
                + "after-send, after-commit");
        }
    }

    /** Halt where {@code service}'s record of step {@code step} reaches {@code point}. */
    public record Fault(String service, Point point, long step) {
    }

    /** What halting does; tests of the processor record it instead. */
    @FunctionalInterface
    public interface Halt {
        void halt(Fault fault);
    }

    public static final FaultPoints NONE = new FaultPoints(List.of(), f -> { });

    private final List<Fault> faults;
    private final Halt halt;

    public FaultPoints(List<Fault> faults, Halt halt) {
        this.faults = List.copyOf(faults);
        this.halt = halt;
    }

    /** The faults the environment variable or the system property asks for (none when neither is set). */
    public static FaultPoints fromEnvironment() {
        String spec = System.getProperty(PROPERTY, System.getenv(ENVIRONMENT));
        return spec == null || spec.isBlank() ? NONE : new FaultPoints(parse(spec), FaultPoints::haltProcess);
    }

    /** {@code SERVICE:POINT:STEP[,...]}; anything else is refused naming the bad part. */
    public static List<Fault> parse(String spec) {
        List<Fault> out = new ArrayList<>();
        for (String one : spec.split(",")) {
            String[] parts = one.strip().split(":");
            if (parts.length != 3 || parts[0].isBlank()) {
                throw new IllegalArgumentException(ENVIRONMENT + " must be SERVICE:POINT:STEP[,...], got '" + one.strip() + "'");
            }
            long step;
            try {
                step = Long.parseLong(parts[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(ENVIRONMENT + ": step must be a whole number, got '" + parts[2] + "'");
            }
            out.add(new Fault(parts[0], Point.parse(parts[1]), step));
        }
        return out;
    }

    /** Whether {@code service} halts when its record of {@code step} reaches {@code point}. */
    public boolean armed(String service, Point point, long step) {
        return faults.stream().anyMatch(f -> f.service().equals(service) && f.point() == point && f.step() == step);
    }

    /** Halts if a fault is set for this service, point and step. */
    void reached(String service, Point point, long step) {
        if (armed(service, point, step)) {
            halt.halt(new Fault(service, point, step));
        }
    }

    private static void haltProcess(Fault f) {
        System.err.printf("ikd: %s halts at fault point %s of step %d (%s)%n", f.service(), f.point().cliName(), f.step(),
            ENVIRONMENT);
        System.err.flush();
        Runtime.getRuntime().halt(EXIT_CODE);
    }
}
