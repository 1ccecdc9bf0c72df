package dev.halfbisect.ort;

/**
 * Whether the JVM is shutting down. ONNX Runtime's Java binding closes its environment in a
 * shutdown hook, so a session build still running on a probe thread then fails with a message about
 * its logger; with this flag the backend says the run was interrupted instead (as the TensorRT
 * workers do when stopped by SIGTERM).
 */
final class ShutdownFlag {
  private static volatile boolean shuttingDown;
  private static boolean installed;

  private ShutdownFlag() {}

  /** Registers the hook that raises the flag; once per JVM. */
  static synchronized void install() {
    if (!installed) {
      Runtime.getRuntime()
          .addShutdownHook(new Thread(() -> shuttingDown = true, "halfbisect-ort-shutdown"));
      installed = true;
    }
  }

  static boolean isShuttingDown() {
    return shuttingDown;
  }
}
