package io.jembed.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code jembed} command-line tool ({@code scripts/jembed}): {@code inspect}, {@code convert} and {@code nearest}
 * over table files (safetensors, .npy, PyTorch checkpoints, word2vec, GloVe, fastText). Ships in the {@code cli}
 * classifier jar with picocli, which the main jar does not need.
 */
@Command(name = "jembed", mixinStandardHelpOptions = true, version = "jembed 0.1.0-SNAPSHOT",
        description = "Inspect, convert and search embedding tables.",
        subcommands = {InspectCommand.class, ConvertCommand.class, NearestCommand.class,
                CommandLine.HelpCommand.class})
public final class JembedCli implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the tool with the given output streams; returns its exit code (0 success, 1 failure, 2 usage). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine line = new CommandLine(new JembedCli());
        line.setOut(out);
        line.setErr(err);
        // A bad file or argument is one line naming the file and the problem, not a stack trace.
        line.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("jembed: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        });
        return line.execute(args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 2;
    }
}
