package dev.ikd.launcher;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import dev.ikd.bench.BenchCommand;
import dev.ikd.core.checkpoint.CheckpointException;
import dev.ikd.core.data.MissingDataException;
import dev.ikd.core.train.DivergedException;
import dev.ikd.embeddedkafka.BrokerException;
import dev.ikd.launcher.log.DashboardCommand;
import dev.ikd.launcher.log.ExportCommand;
import dev.ikd.launcher.log.PredictCommand;
import dev.ikd.launcher.log.ReplayCommand;
import dev.ikd.launcher.run.GradCheckCommand;
import dev.ikd.launcher.run.LocalCommand;
import dev.ikd.launcher.run.GenerateCommand;
import dev.ikd.launcher.run.PretrainCommand;
import dev.ikd.launcher.run.TrainCommand;
import dev.ikd.launcher.service.BrokerCommand;
import dev.ikd.launcher.service.CoordinatorCommand;
import dev.ikd.launcher.service.KeysCommand;
import dev.ikd.launcher.service.StudentCommand;
import dev.ikd.launcher.service.TeacherCommand;
import dev.ikd.launcher.service.TopicsCommand;
import dev.ikd.proto.kafka.LogReadException;
import dev.ikd.runtime.RunFailedException;
import dev.ikd.runtime.checkpoint.UnusableCheckpointException;
import dev.ikd.runtime.processor.ServiceStoppedException;
import dev.ikd.wiring.RunOptionTable;
import dev.ikd.wiring.RunOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code ikd} command line. */
@Command(name = "ikd", mixinStandardHelpOptions = true, version = "ikd 0.1.0",
    description = "Interactive knowledge distillation over Kafka.",
    subcommands = {LocalCommand.class, ReplayCommand.class, CoordinatorCommand.class, TeacherCommand.class, StudentCommand.class, BrokerCommand.class, TopicsCommand.class, DashboardCommand.class, KeysCommand.class, GradCheckCommand.class, PretrainCommand.class, GenerateCommand.class, TrainCommand.class, ExportCommand.class, PredictCommand.class,
        BenchCommand.class})
public final class Ikd implements Runnable {

    /**
     * Options that were renamed so that one concept has one name across every command: the old
     * spelling stops the command with one line naming the new one, on the command line and as a key
     * of a config file.
     */
    static final Map<String, String> RENAMED = Map.of(
        "--run", "--run-id",
        "--state", "--state-dir",
        "--iakd-swap", "--swap");

    /** Exit code for bad command-line or configuration values. */
    static final int USAGE = 2;
    /** Exit code of a service that stopped to keep its guarantees (crash-only): the same command resumes it. */
    static final int STOPPED = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required ("
            + String.join(", ", spec.subcommands().keySet()) + ")");
    }

    /**
     * ikd writes UTF-8 whatever the locale (its JSON must be UTF-8, and its help, paths and generated
     * text are not all ASCII): under a POSIX locale Java 17 would print '?' for every other character.
     */
    public static void main(String[] args) {
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
        System.exit(execute(args));
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The command tree, where every command takes {@code --config FILE}: a command that does not
     * declare it (those of other modules, such as the benchmarks) gets it here, so one run.properties
     * serves every command ({@link ConfigFile} reads it before the options are parsed).
     */
    static CommandLine commandLine() {
        var cli = new CommandLine(new Ikd());
        addConfigOption(cli);
        return cli;
    }

    private static void addConfigOption(CommandLine command) {
        if (!command.getCommandSpec().optionsMap().containsKey("--config")) {
            command.getCommandSpec().addOption(CommandLine.Model.OptionSpec.builder("--config").paramLabel("FILE").type(Path.class)
                .description(ConfigFile.DESCRIPTION).build());
        }
        for (var mixin : command.getCommandSpec().mixins().values()) {
            if (mixin.userObject() instanceof RunOptions) {
                // --help says what the preset decides until it knows the data set (RunOptions.showPresetInHelp)
                command.getCommandSpec().resourceBundle(RunOptionTable.presetHelp(null, null));
                // The run options this command refuses are not in its --help.
                for (String refused : RunOptionTable.refusedBy(command.getCommandSpec().qualifiedName(" ").replaceFirst("^ikd ", ""))
                    .keySet()) {
                    var option = command.getCommandSpec().findOption(refused);
                    command.getCommandSpec().remove(option);
                    command.getCommandSpec().addOption(option.toBuilder().hidden(true).build());
                }
            }
        }
        command.getSubcommands().values().forEach(Ikd::addConfigOption);
    }

    /** Runs a command line and returns its exit code (tests call this; only {@link #main} exits). */
    public static int execute(String... args) {
        // Read once when the engine starts: offline natives, one intra-op thread per learner (docs/architecture.md §10).
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("ai.djl.pytorch.num_threads", System.getProperty("ai.djl.pytorch.num_threads", "1"));
        System.setProperty("ai.djl.pytorch.num_interop_threads", System.getProperty("ai.djl.pytorch.num_interop_threads", "1"));
        for (String arg : args) {
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            if (RENAMED.containsKey(name)) {
                System.err.println("ikd: " + name + " is now " + RENAMED.get(name) + " (one name per concept across every command)");
                return USAGE;
            }
        }
        var cli = commandLine();
        // picocli would encode in the locale's charset; the bytes go on to System.out and System.err as they are.
        cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
        cli.setParameterExceptionHandler((e, a) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("ikd: " + e.getMessage() + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            PrintWriter err = commandLine.getErr();
            if (e instanceof IllegalArgumentException || e instanceof MissingDataException || e instanceof CheckpointException
                || e instanceof BrokerException || e instanceof UnusableCheckpointException) {
                err.println("ikd: " + e.getMessage());
                return USAGE;
            }
            if (e instanceof ServiceStoppedException stopped) {
                err.println("ikd: " + stopped.getMessage());
                // A checkpoint it cannot resume from is the operator's to fix (like a bad option), not a crash to retry.
                return causedBy(stopped, UnusableCheckpointException.class) || causedBy(stopped, CheckpointException.class)
                    ? USAGE : STOPPED;
            }
            if (e instanceof DivergedException) {
                err.println("ikd: run aborted: " + e.getMessage());
                return 1;
            }
            if (e instanceof RunFailedException || e instanceof LogReadException) {
                err.println("ikd: " + e.getMessage());
                return 1;
            }
            err.println("ikd: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (System.getenv("IKD_DEBUG") != null) {
                e.printStackTrace(err);
            } else {
                err.println("ikd: (set IKD_DEBUG=1 for the stack trace)");
            }
            return 1;
        });
        try {
            Path config = ConfigFile.named(args, System.getenv(ConfigFile.ENV));
            if (config != null) {
                cli.setDefaultValueProvider(ConfigFile.load(config, cli.getCommandSpec()));
            }
        } catch (IllegalArgumentException e) {
            cli.getErr().println("ikd: " + e.getMessage());
            return USAGE;
        }
        // --print-config: the run's resolved options instead of the run, on every command that takes them.
        cli.setExecutionStrategy(parsed -> {
            CommandLine last = parsed.asCommandLineList().get(parsed.asCommandLineList().size() - 1);
            // Run options a command shares with the others but does not use stop it with one line (RunOptionTable);
            // a config file may hold them: one run.properties serves every service of a run.
            var notTaken = RunOptionTable.refusedBy(last.getCommandSpec().qualifiedName(" ").replaceFirst("^ikd ", ""));
            for (var matched : last.getParseResult().matchedOptions()) {
                String why = notTaken.get(matched.longestName());
                if (why != null) {
                    last.getErr().println("ikd " + last.getCommandName() + ": " + matched.longestName() + " is not taken here (" + why
                        + ")");
                    return USAGE;
                }
            }
            for (var mixin : last.getCommandSpec().mixins().values()) {
                if (mixin.userObject() instanceof RunOptions run && last.isUsageHelpRequested()) {
                    run.showPresetInHelp(last.getCommandSpec());
                }
                if (mixin.userObject() instanceof RunOptions run && run.printConfig && !last.isUsageHelpRequested()) {
                    try {
                        last.getOut().print(run.resolved());
                        last.getOut().flush();
                        return 0;
                    } catch (IllegalArgumentException e) {
                        last.getErr().println("ikd: " + e.getMessage());
                        return USAGE;
                    }
                }
            }
            return new CommandLine.RunLast().execute(parsed);
        });
        return cli.execute(args);
    }
}
