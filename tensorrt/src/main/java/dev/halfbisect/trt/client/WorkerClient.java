package dev.halfbisect.trt.client;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker process and the framed conversation with it. Requests are answered in order; each call
 * waits at most its time limit, after which the process is killed. A dead or killed worker turns
 * every call into a {@link BackendCrashException} naming the exit code and the last lines the
 * worker logged. Its stderr is forwarded to SLF4J line by line.
 */
public final class WorkerClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerClient.class);
  private static final Logger WORKER_LOG = LoggerFactory.getLogger("dev.halfbisect.trt.worker");
  private static final int TAIL_LINES = 30;

  private final String label;
  private final Process process;
  private final DataOutputStream out;
  private final DataInputStream in;
  private final ExecutorService reader;
  private final Deque<String> stderrTail = new ArrayDeque<>();
  private final Thread stderrPump;
  private volatile String deathReason;

  private WorkerClient(String label, Process process) {
    this.label = label;
    this.process = process;
    this.out = new DataOutputStream(new BufferedOutputStream(process.getOutputStream(), 1 << 16));
    this.in = new DataInputStream(new BufferedInputStream(process.getInputStream(), 1 << 16));
    this.reader = Executors.newSingleThreadExecutor(r -> daemon(r, label + "-reader"));
    this.stderrPump = daemon(this::pumpStderr, label + "-stderr");
    stderrPump.start();
  }

  /**
   * Starts {@code command} (a java command line) with the extra environment.
   *
   * @throws IOException when the process cannot start
   */
  public static WorkerClient start(String label, List<String> command, Map<String, String> env)
      throws IOException {
    Preconditions.checkArgument(!command.isEmpty(), "empty worker command");
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    pb.redirectError(ProcessBuilder.Redirect.PIPE);
    LOG.debug("starting TensorRT worker {}: {}", label, command);
    return new WorkerClient(label, pb.start());
  }

  /**
   * Sends {@code request} and waits at most {@code limit} for the answer.
   *
   * @throws BackendCrashException when the worker died, broke the protocol or ran out of time (it
   *     is killed then)
   */
  public synchronized Response call(Request request, Duration limit) throws BackendCrashException {
    if (deathReason != null) {
      throw new BackendCrashException(
          "TensorRT worker " + label + " is no longer running: " + deathReason);
    }
    Future<Response> answer;
    try {
      Request.write(out, request);
      answer = reader.submit(() -> Response.read(in));
    } catch (IOException e) {
      throw crashed("could not send " + kind(request) + ": " + e.getMessage(), e);
    }
    try {
      return answer.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      answer.cancel(true);
      process.destroyForcibly();
      waitForExit();
      throw crashed(
          kind(request) + " exceeded its time limit of " + limit.toSeconds() + " s; worker killed",
          e);
    } catch (ExecutionException e) {
      throw crashed(kind(request) + " got no answer: " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw crashed("interrupted while waiting for " + kind(request), e);
    }
  }

  /** Whether the process still runs and has not broken the protocol. */
  public boolean alive() {
    return deathReason == null && process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** The last lines the worker wrote to stderr. */
  public ImmutableList<String> stderrTail() {
    synchronized (stderrTail) {
      return ImmutableList.copyOf(stderrTail);
    }
  }

  /** Asks the worker to exit, then kills it if it does not within a few seconds. */
  @Override
  public void close() {
    if (process.isAlive() && deathReason == null) {
      try {
        call(new Request.Shutdown(), Duration.ofSeconds(10));
      } catch (BackendCrashException e) {
        LOG.debug("worker {} did not shut down cleanly: {}", label, e.getMessage());
      }
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    if (deathReason == null) {
      deathReason = "closed";
    }
    reader.shutdownNow();
  }

  /** Exit codes of a process ended by a stop signal (128 + the signal's number). */
  private static final java.util.Map<Integer, String> STOP_SIGNALS =
      java.util.Map.of(129, "SIGHUP", 130, "SIGINT", 143, "SIGTERM");

  private BackendCrashException crashed(String what, Throwable cause) {
    Integer code = waitForExit();
    String exit = code == null ? "still running, killed" : "exit code " + code;
    deathReason = what + " (" + exit + ")";
    process.destroyForcibly();
    try {
      stderrPump.join(500); // let the last lines of a dying worker arrive
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String tail = String.join("\n  ", stderrTail());
    String signal = code == null ? null : STOP_SIGNALS.get(code);
    if (signal != null) {
      // Ctrl-C in a terminal, or `timeout`, signals the whole process group: not a TensorRT crash
      return new BackendCrashException(
          "TensorRT worker "
              + label
              + " was stopped by "
              + signal
              + ": halfbisect was interrupted (Ctrl-C, a time limit), not a TensorRT failure",
          cause);
    }
    return new BackendCrashException(
        "TensorRT worker "
            + label
            + " crashed: "
            + deathReason
            + (tail.isEmpty() ? "" : "; last worker log lines:\n  " + tail),
        cause);
  }

  private Integer waitForExit() {
    try {
      if (process.waitFor(3, TimeUnit.SECONDS)) {
        return process.exitValue();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return null;
  }

  private void pumpStderr() {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        synchronized (stderrTail) {
          if (stderrTail.size() == TAIL_LINES) {
            stderrTail.removeFirst();
          }
          stderrTail.addLast(line);
        }
        logLine(line);
      }
    } catch (IOException e) {
      LOG.debug("stderr of worker {} closed: {}", label, e.getMessage());
    }
  }

  /**
   * Worker lines start with their level ("E ", "W ", "I ", "D "); anything else is a native print.
   */
  private void logLine(String line) {
    String msg = line.length() > 2 && line.charAt(1) == ' ' ? line.substring(2) : line;
    switch (line.isEmpty() ? ' ' : line.charAt(0)) {
      case 'E':
        WORKER_LOG.error("[{}] {}", label, msg);
        break;
      case 'W':
        WORKER_LOG.warn("[{}] {}", label, msg);
        break;
      case 'I':
        WORKER_LOG.info("[{}] {}", label, msg);
        break;
      default:
        WORKER_LOG.debug("[{}] {}", label, msg);
        break;
    }
  }

  private static String kind(Request r) {
    return r.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " request";
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
