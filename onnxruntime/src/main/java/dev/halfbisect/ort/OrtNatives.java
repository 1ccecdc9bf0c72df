package dev.halfbisect.ort;

import ai.onnxruntime.OrtLoggingLevel;
import com.google.common.hash.Hashing;
import dev.halfbisect.core.io.SafeFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where ONNX Runtime's natives come from and how loud they are. Left alone, the ORT jar extracts
 * its 28 MB of libraries into a fresh {@code /tmp/onnxruntime-java*} folder on every start and
 * leaves it behind after a kill. Instead they are extracted once into the halfbisect cache folder
 * ({@code halfbisect.cacheDir}, default {@code ~/.cache/halfbisect}, a folder per ORT jar) and
 * handed to ORT through its {@code onnxruntime.native.path} property; the empty temporary folder
 * ORT still creates during its load is removed, and so is the empty telemetry log ORT 1.29 leaves
 * in {@code /tmp}. A user who sets {@code onnxruntime.native.path} keeps full control. ORT's own
 * log level is FATAL unless {@code halfbisect.ort.logLevel} says otherwise (the command line's
 * {@code --verbose} sets WARNING), so that its coloured native lines do not reach the user next to
 * halfbisect's one-line messages.
 */
final class OrtNatives {
  private static final Logger LOG = LoggerFactory.getLogger(OrtNatives.class);
  static final String NATIVE_PATH = "onnxruntime.native.path";
  static final String CACHE_DIR = "halfbisect.cacheDir";
  static final String LOG_LEVEL = "halfbisect.ort.logLevel";
  private static final String TEMP_PREFIX = "onnxruntime-java";
  private static boolean loaded;

  private OrtNatives() {}

  /**
   * ORT's log level: {@code halfbisect.ort.logLevel} (verbose, info, warning, error, fatal; default
   * fatal).
   *
   * @throws IllegalArgumentException naming the property for another value (it was quietly fatal)
   */
  static OrtLoggingLevel logLevel() {
    String given = System.getProperty(LOG_LEVEL, "fatal");
    String v = given.trim().toUpperCase(Locale.ROOT);
    try {
      return OrtLoggingLevel.valueOf("ORT_LOGGING_LEVEL_" + v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "property "
              + LOG_LEVEL
              + " must be verbose, info, warning, error or fatal, got '"
              + given.trim()
              + "'",
          e);
    }
  }

  /** Whether ONNX Runtime's natives are loaded (its environment made) in this JVM. */
  static synchronized boolean isLoaded() {
    return loaded;
  }

  /** Runs {@code load} (the first touch of ORT) with the natives served from the cache folder. */
  static synchronized <T, E extends Exception> T load(NativeLoad<T, E> load) throws E {
    if (loaded) {
      return load.run();
    }
    if (System.getProperty(NATIVE_PATH) == null) {
      Path dir = extractToCache();
      if (dir != null) {
        System.setProperty(NATIVE_PATH, dir.toString());
      }
    }
    Set<Path> before = tempFolders();
    try {
      T t = onLargeStack(load);
      loaded = true;
      return t;
    } finally {
      for (Path p : tempFolders()) {
        if (!before.contains(p)) {
          deleteIfEmpty(p);
        }
      }
      deleteTelemetryLog();
    }
  }

  /**
   * Stack of the thread that first touches ORT. ONNX Runtime 1.29's POSIX telemetry matches regular
   * expressions against the process command line when the environment starts, with a backtracking
   * matcher that recurses about once per character: a command line of about 3.9 KB (a long {@code
   * -cp}) overflows a Java thread's default 1 MB stack and the JVM dies with SIGSEGV, no exception,
   * no message (measured in docs/reliability.md; {@code ORT_DISABLE_TELEMETRY=1} avoids it too).
   * 256 MB of address space, committed only as used, covers the longest command line Linux allows.
   */
  static final long FIRST_TOUCH_STACK_BYTES = 256L << 20;

  /** Runs {@code load} on a thread of its own with {@link #FIRST_TOUCH_STACK_BYTES} of stack. */
  @SuppressWarnings("unchecked") // load throws E or an unchecked throwable, nothing else
  private static <T, E extends Exception> T onLargeStack(NativeLoad<T, E> load) throws E {
    Object[] result = new Object[1];
    Throwable[] failure = new Throwable[1];
    Thread t =
        new Thread(
            null,
            () -> {
              try {
                result[0] = load.run();
              } catch (Throwable e) { // handed to the caller's thread below
                failure[0] = e;
              }
            },
            "halfbisect-ort-load",
            FIRST_TOUCH_STACK_BYTES);
    t.start();
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the load cannot be abandoned half way: wait, then re-assert
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable f = failure[0];
    if (f instanceof RuntimeException r) {
      throw r;
    }
    if (f instanceof Error err) {
      throw err;
    }
    if (f != null) {
      throw (E) f;
    }
    return (T) result[0];
  }

  /** The first touch of ORT. */
  @FunctionalInterface
  interface NativeLoad<T, E extends Exception> {
    T run() throws E;
  }

  /** The cache folder holding this ORT jar's libraries, or null when they cannot be put there. */
  static Path extractToCache() {
    String platform = platform();
    if (platform == null) {
      return null;
    }
    String[] libs = {
      System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni")
    };
    URL first = resource(platform, libs[0]);
    if (first == null) {
      return null;
    }
    Path dir;
    try {
      dir = cacheRoot().resolve("ort-" + platform + "-" + cacheId(platform, libs));
    } catch (IOException e) {
      LOG.debug("cannot read the ONNX Runtime natives: {}", e.toString());
      return null;
    }
    try {
      for (String lib : libs) {
        URL u = resource(platform, lib);
        if (u == null) {
          return null;
        }
        Path target = dir.resolve(lib);
        long size = u.openConnection().getContentLengthLong();
        if (Files.isRegularFile(target) && Files.size(target) == size) {
          continue;
        }
        try (InputStream in = u.openStream()) {
          SafeFiles.write(target, in::transferTo);
        }
      }
      return dir;
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot keep ONNX Runtime natives in {}: {}", dir, e.toString());
      return null;
    }
  }

  /**
   * One folder per ONNX Runtime build, wherever its jar lies: a digest of the JNI library's bytes
   * (small) and the core library's size. It was a digest of the resource URL, which names the jar's
   * path, so every checkout, shaded jar or test class path extracted its own 28 MB copy.
   */
  static String cacheId(String platform, String[] libs) throws IOException {
    URL jni = resource(platform, libs[1]);
    URL core = resource(platform, libs[0]);
    if (jni == null || core == null) {
      throw new IOException("ONNX Runtime natives for " + platform + " not on the class path");
    }
    com.google.common.hash.Hasher h = Hashing.sha256().newHasher();
    try (InputStream in = jni.openStream()) {
      h.putBytes(in.readAllBytes());
    }
    h.putLong(core.openConnection().getContentLengthLong());
    return h.hash().toString().substring(0, 12);
  }

  static Path cacheRoot() {
    String p = System.getProperty(CACHE_DIR);
    return p != null
        ? Path.of(p)
        : Path.of(System.getProperty("user.home", "."), ".cache", "halfbisect");
  }

  private static URL resource(String platform, String lib) {
    return OrtNatives.class.getResource("/ai/onnxruntime/native/" + platform + "/" + lib);
  }

  /** ORT's folder name for this platform, e.g. linux-x64. */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String o =
        os.contains("linux")
            ? "linux"
            : os.contains("mac") || os.contains("darwin")
                ? "osx"
                : os.contains("win") ? "win" : null;
    String a =
        arch.equals("amd64") || arch.equals("x86_64")
            ? "x64"
            : arch.equals("aarch64") ? "aarch64" : null;
    return o == null || a == null ? null : o + "-" + a;
  }

  private static Set<Path> tempFolders() {
    Set<Path> out = new HashSet<>();
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp, TEMP_PREFIX + "*")) {
      ds.forEach(out::add);
    } catch (IOException | RuntimeException e) {
      // nothing to tidy
    }
    return out;
  }

  /**
   * ONNX Runtime 1.29's telemetry writes an empty {@code /tmp/mat-debug-<pid>.log} when the
   * environment starts and never removes it (one file per run); removed here when still empty.
   */
  private static void deleteTelemetryLog() {
    Path log = Path.of("/tmp", "mat-debug-" + ProcessHandle.current().pid() + ".log");
    try {
      if (Files.isRegularFile(log, java.nio.file.LinkOption.NOFOLLOW_LINKS)
          && Files.size(log) == 0) {
        Files.delete(log);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("left {}: {}", log, e.toString());
    }
  }

  private static void deleteIfEmpty(Path dir) {
    try {
      Files.delete(dir); // fails, harmlessly, unless it is an empty folder
    } catch (IOException e) {
      LOG.debug("left {}: {}", dir, e.toString());
    }
  }
}
