package dev.halfbisect.cli;

import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.core.io.UnsafeTargetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The files a command is going to write, checked before any work starts: the output folder exists
 * or can be created and is writable; no target is a directory, device, FIFO or socket; no target is
 * one of the run's inputs (the model, its external-data files, {@code --load-inputs}, {@code
 * --plan}). A problem is a usage error (exit 2) naming the path, before minutes of builds are
 * spent. The check creates a missing output folder (to prove it can); {@link #removeCreatedIfEmpty}
 * takes it away again when the command then fails before writing anything into it.
 */
final class OutputTargets {
  private final List<Path> inputs = new ArrayList<>();
  private final List<Path> folders = new ArrayList<>();
  private final List<Path> files = new ArrayList<>();

  /** A checked folder that did not exist, and its topmost ancestor that did not either. */
  private record Created(Path dir, Path top) {}

  private final List<Created> created = new ArrayList<>();

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
      Path abs = dir.toAbsolutePath().normalize();
      Path top = topmostMissing(abs);
      try {
        SafeFiles.checkWritableDirectory(dir);
        if (top != null) {
          created.add(new Created(abs, top));
        }
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

  /**
   * Deletes the folders {@link #check} created that are still empty, deepest first, up to the
   * topmost one it created: a command refused after the check (a usage error the facade finds, a
   * missing backend) leaves no empty {@code --out} behind. A folder with anything in it (a journal,
   * a partial plan) stays.
   */
  void removeCreatedIfEmpty() {
    for (Created c : created) {
      for (Path q = c.dir(); q != null && q.startsWith(c.top()); q = q.getParent()) {
        try {
          if (!Files.isDirectory(q, LinkOption.NOFOLLOW_LINKS)) {
            break;
          }
          try (var entries = Files.list(q)) {
            if (entries.findAny().isPresent()) {
              break;
            }
          }
          Files.delete(q);
        } catch (IOException e) {
          break; // best effort: the command's own error is the one to report
        }
      }
    }
  }

  /** The topmost ancestor of {@code p} (or {@code p}) that does not exist; null when p exists. */
  private static Path topmostMissing(Path p) {
    Path top = null;
    for (Path q = p; q != null && !Files.exists(q, LinkOption.NOFOLLOW_LINKS); q = q.getParent()) {
      top = q;
    }
    return top;
  }

  private static Path existingAncestor(Path p) {
    Path q = p;
    while (q != null && !Files.exists(q)) {
      q = q.getParent();
    }
    return q;
  }
}
