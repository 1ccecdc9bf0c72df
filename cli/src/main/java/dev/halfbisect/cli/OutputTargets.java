package dev.halfbisect.cli;

import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.core.io.UnsafeTargetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The files a command is going to write, checked before any work starts: the output folder exists
 * or can be created and is writable; no target is a directory, device, FIFO or socket; no target is
 * one of the run's inputs (the model, its external-data files, {@code --load-inputs}, {@code
 * --plan}). A problem is a usage error (exit 2) naming the path, before minutes of builds are
 * spent.
 */
final class OutputTargets {
  private final List<Path> inputs = new ArrayList<>();
  private final List<Path> folders = new ArrayList<>();
  private final List<Path> files = new ArrayList<>();

  /** A file the run reads and must not write over (null: ignored). */
  OutputTargets input(Path p) {
    if (p != null) {
      inputs.add(p);
    }
    return this;
  }

  OutputTargets inputs(List<Path> ps) {
    ps.forEach(this::input);
    return this;
  }

  /** A folder that will receive {@code names} (null folder: ignored). */
  OutputTargets folder(Path dir, String... names) {
    if (dir != null) {
      folders.add(dir);
      for (String n : names) {
        files.add(dir.resolve(n));
      }
    }
    return this;
  }

  /** One output file (null: ignored). */
  OutputTargets file(Path f) {
    if (f != null) {
      files.add(f);
    }
    return this;
  }

  /** Throws {@link UsageException} naming the first target that cannot be written. */
  void check() {
    for (Path dir : folders) {
      try {
        SafeFiles.checkWritableDirectory(dir);
      } catch (UnsafeTargetException e) {
        throw new UsageException(e.getMessage());
      } catch (IOException e) {
        throw new UsageException("cannot write to folder " + dir + ": " + Failures.reason(e));
      }
    }
    for (Path f : files) {
      try {
        SafeFiles.checkTarget(f);
        SafeFiles.checkNotInput(f, inputs);
      } catch (UnsafeTargetException e) {
        throw new UsageException(e.getMessage());
      }
      Path parent = existingAncestor(f.toAbsolutePath().getParent());
      if (parent != null && !Files.isWritable(parent)) {
        throw new UsageException("cannot write " + f + ": folder " + parent + " is not writable");
      }
    }
  }

  private static Path existingAncestor(Path p) {
    Path q = p;
    while (q != null && !Files.exists(q)) {
      q = q.getParent();
    }
    return q;
  }
}
