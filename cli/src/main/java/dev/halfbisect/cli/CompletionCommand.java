package dev.halfbisect.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code halfbisect completion}: prints the bash/zsh completion script picocli generates from the
 * command tree (subcommands, options, file arguments). Install with {@code source <(halfbisect
 * completion)} or save it under {@code /etc/bash_completion.d/}.
 */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Print the bash/zsh completion script for halfbisect.",
      "Use: source <(halfbisect completion)   (or save it to ~/.local/share/bash-completion/completions/halfbisect)"
    })
final class CompletionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    String script = AutoComplete.bash("halfbisect", spec.root().commandLine());
    spec.commandLine().getOut().print(script);
    spec.commandLine().getOut().flush();
    return Main.PASS;
  }
}
