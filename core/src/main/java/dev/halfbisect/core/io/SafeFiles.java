package dev.halfbisect.core.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.HexFormat;

/**
 * The one way halfbisect writes a user-visible file. A write goes to a temporary file beside the
 * target (same folder, so same file system), is flushed to disk and then renamed over the target
 * atomically: a reader or a kill -9 sees the old file or the new one, never a half-written one.
 *
 * <ul>
 *   <li>A symlink at the target is replaced as a directory entry; the file it points to is never
 *       opened (rename does not follow links).
 *   <li>A target that exists and is not a regular file or a symlink (directory, device, FIFO,
 *       socket) is refused with {@link UnsafeTargetException}.
 *   <li>Permissions come from the process umask (typically 0644), the same for models and reports:
 *       the temporary file is created with a plain {@code open(O_CREAT|O_EXCL)} rather than {@link
 *       Files#createTempFile}, which forces 0600.
 * </ul>
 */
public final class SafeFiles {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Writes the content of one file to a stream (the stream is closed by the caller). */
  @FunctionalInterface
  public interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  private SafeFiles() {}

  /** Replaces {@code target} with {@code bytes}. */
  public static void write(Path target, byte[] bytes) throws IOException {
    write(target, out -> out.write(bytes));
  }

  /** Replaces {@code target} with {@code text} in UTF-8. */
  public static void writeString(Path target, String text) throws IOException {
    write(target, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Replaces {@code target} with what {@code content} writes, creating missing parent folders. If
   * {@code content} fails, the target is left as it was.
   */
  public static void write(Path target, Content content) throws IOException {
    checkTarget(target);
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    Path tmp = createTemp(dir, abs.getFileName().toString());
    boolean moved = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
          OutputStream out = Channels.newOutputStream(ch)) {
        content.writeTo(out);
        out.flush();
        ch.force(true);
      }
      commit(tmp, abs);
      moved = true;
    } finally {
      if (!moved) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /**
   * A new empty temporary file beside {@code target} (after {@link #checkTarget}), for writers that
   * need random access; finish with {@link #commit} or delete it.
   */
  public static Path createTempBeside(Path target) throws IOException {
    checkTarget(target);
    Path abs = target.toAbsolutePath();
    Files.createDirectories(abs.getParent());
    return createTemp(abs.getParent(), abs.getFileName().toString());
  }

  /**
   * Forces {@code tmp} to disk and renames it over {@code target} (a symlink there is replaced as
   * an entry).
   */
  public static void commit(Path tmp, Path target) throws IOException {
    checkTarget(target);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(target.toAbsolutePath().getParent());
  }

  /**
   * Opens {@code target} for appending (created if missing), refusing a symlink or a non-regular
   * file there; for journals that grow line by line.
   */
  public static FileChannel openAppend(Path target) throws IOException {
    checkTarget(target);
    if (Files.isSymbolicLink(target)) {
      throw new UnsafeTargetException(target, "it is a symbolic link");
    }
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    return FileChannel.open(
        target,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND,
        StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Throws {@link UnsafeTargetException} when {@code target} exists and is neither a regular file
   * nor a symlink (which a write replaces as an entry); creates nothing.
   */
  public static void checkTarget(Path target) throws UnsafeTargetException {
    BasicFileAttributes a = attributes(target);
    if (a == null || a.isRegularFile() || a.isSymbolicLink()) {
      return;
    }
    throw new UnsafeTargetException(target, "it exists and is " + kind(a) + ", not a regular file");
  }

  /**
   * Throws {@link UnsafeTargetException} when writing {@code target} would replace one of {@code
   * inputs} (same file, e.g. the model, its external-data files or loaded inputs). A symlink at the
   * target that points to an input is fine: the link is replaced, not the input.
   */
  public static void checkNotInput(Path target, Collection<Path> inputs)
      throws UnsafeTargetException {
    BasicFileAttributes a = attributes(target);
    for (Path in : inputs) {
      if (a != null && !a.isSymbolicLink() && sameFile(target, in)) {
        throw new UnsafeTargetException(target, "it is an input of this run (" + in + ")");
      }
      if (a == null
          && in.toAbsolutePath().normalize().equals(target.toAbsolutePath().normalize())) {
        throw new UnsafeTargetException(target, "it is an input of this run (" + in + ")");
      }
    }
  }

  /**
   * Throws {@link UnsafeTargetException} (or the file system's exception) unless {@code dir} is, or
   * can be created as, a folder this process can write; creates it.
   */
  public static void checkWritableDirectory(Path dir) throws IOException {
    BasicFileAttributes a = attributes(dir);
    if (a != null && !Files.isDirectory(dir)) {
      throw new UnsafeTargetException(dir, "it exists and is " + kind(a) + ", not a folder");
    }
    Files.createDirectories(dir);
    Path probe = createTemp(dir.toAbsolutePath(), "write-check");
    Files.delete(probe);
  }

  private static boolean sameFile(Path a, Path b) {
    try {
      return Files.exists(b) && Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return null;
    }
  }

  private static String kind(BasicFileAttributes a) {
    if (a.isDirectory()) {
      return "a directory";
    }
    if (a.isRegularFile()) {
      return "a file"; // a folder target that is a file
    }
    if (a.isSymbolicLink()) {
      return "a symbolic link";
    }
    return "a device, FIFO or socket";
  }

  private static Path createTemp(Path dir, String name) throws IOException {
    for (int i = 0; ; i++) {
      byte[] r = new byte[6];
      RANDOM.nextBytes(r);
      Path tmp = dir.resolve("." + name + "." + HexFormat.of().formatHex(r) + ".tmp");
      try {
        // CREATE_NEW without attributes: mode 0666 minus the umask, never through a link.
        Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return tmp;
      } catch (FileAlreadyExistsException e) {
        if (i > 100) {
          throw e;
        }
      }
    }
  }

  /** Makes the rename durable; not every platform can open a folder, which is fine. */
  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      // best effort: the data itself was forced before the rename
    }
  }
}
