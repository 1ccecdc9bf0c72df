package dev.halfbisect.core.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An output path halfbisect refuses to write: a directory, device, FIFO or socket, or one of the
 * run's own inputs. The command line reports it as a usage error (exit 2).
 */
public final class UnsafeTargetException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path target;

  public UnsafeTargetException(Path target, String why) {
    super("refusing to write " + target + ": " + why);
    this.target = target;
  }

  /** The path that was refused. */
  public Path target() {
    return target;
  }
}
