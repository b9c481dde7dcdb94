package dev.ikd.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * {@code --config run.properties} (or the environment's {@code IKD_CONFIG}): one file of run options
 * that every service of a run reads, instead of a dozen options repeated on every machine. A key is
 * an option's long name without its dashes ({@code bootstrap=kafka:9092}, {@code run-id=run-7},
 * {@code steps=200}); {@code COMMAND.key} applies to one command only ({@code teacher.feature-cache=0}).
 * An option given on the command line wins over the file. A key that no ikd command knows stops the
 * command with one line: a typo must not silently leave a default in place.
 */
public final class ConfigFile implements CommandLine.IDefaultValueProvider {

    static final String ENV = "IKD_CONFIG";

    static final String DESCRIPTION = "Run options from a properties file (keys: long option names without dashes, e.g. "
        + "bootstrap, run-id, steps; COMMAND.key for one command); the command line overrides it. Default: the file named by $"
        + ENV + ", if set.";

    /** The option that names the file; on every command that reads it, so that --help shows it. */
    public static final class Flag {
        @Option(names = "--config", paramLabel = "FILE", description = DESCRIPTION)
        Path config;
    }

    private final Path file;
    private final Properties values;

    private ConfigFile(Path file, Properties values) {
        this.file = file;
        this.values = values;
    }

    /**
     * The file named by {@code --config FILE} (or {@code --config=FILE}) anywhere in {@code args}, or
     * by {@code $IKD_CONFIG}; null when neither names one.
     */
    static Path named(String[] args, String fromEnvironment) {
        for (int i = 0; i < args.length; i++) {
            if ("--config".equals(args[i])) {
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException("--config needs a file");
                }
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                return Path.of(args[i].substring("--config=".length()));
            }
        }
        return fromEnvironment == null || fromEnvironment.isBlank() ? null : Path.of(fromEnvironment);
    }

    /** Reads {@code file} and checks every key against the options of {@code root}'s commands. */
    static ConfigFile load(Path file, CommandSpec root) {
        Properties values = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            values.load(r);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + file + " does not exist");
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
        }
        dev.ikd.wiring.RunOptionTable.foldTeacherModels(values, "config file " + file);
        Set<String> known = new TreeSet<>();
        Set<String> commands = new TreeSet<>();
        collect(root, known, commands);
        List<String> unknown = new ArrayList<>();
        for (String key : values.stringPropertyNames()) {
            int dot = key.indexOf('.');
            String option = dot > 0 && commands.contains(key.substring(0, dot)) ? key.substring(dot + 1) : key;
            String renamed = Ikd.RENAMED.get("--" + option);
            if (renamed != null) {
                throw new IllegalArgumentException("config file " + file + ": " + key + " is now " + renamed.substring(2)
                    + " (one name per concept across every command)");
            }
            if (!known.contains(option) || "config".equals(option)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("config file " + file + ": no ikd command has the option" + (unknown.size() > 1 ? "s " : " ")
                + String.join(", ", new TreeSet<>(unknown)) + " (keys are long option names without dashes, e.g. run-id)");
        }
        return new ConfigFile(file, values);
    }

    private static void collect(CommandSpec spec, Set<String> options, Set<String> commands) {
        commands.add(spec.name());
        for (OptionSpec o : spec.options()) {
            options.add(key(o));
        }
        for (CommandLine sub : spec.subcommands().values()) {
            collect(sub.getCommandSpec(), options, commands);
        }
    }

    private static String key(OptionSpec o) {
        return o.longestName().replaceFirst("^-+", "");
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || "config".equals(key(o))) {
            return null;
        }
        String command = o.command() == null ? null : o.command().name();
        String value = command == null ? null : values.getProperty(command + "." + key(o));
        return value != null ? value.strip() : values.getProperty(key(o)) == null ? null : values.getProperty(key(o)).strip();
    }

    @Override
    public String toString() {
        return file.toString();
    }
}
