package dev.ikd.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ikd bench}: benchmarks that record their results under bench/results and in BENCHMARKS.md. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run a benchmark and record its results.",
    subcommands = {AccuracyBench.class, DashboardBench.class, LmBench.class, LmServicesBench.class, MemoryBench.class, OverheadBench.class, ScaleBench.class,
        TeachersBench.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a benchmark is required ("
            + String.join(", ", spec.subcommands().keySet()) + ")");
    }
}
