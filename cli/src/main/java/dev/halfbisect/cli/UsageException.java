package dev.halfbisect.cli;

/** A command-line mistake found by a subcommand (exit code 2, one line). */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
