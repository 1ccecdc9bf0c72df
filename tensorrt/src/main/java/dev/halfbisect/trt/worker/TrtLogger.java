package dev.halfbisect.trt.worker;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.tensorrt.nvinfer.ILogger;

/**
 * TensorRT's logger: forwards messages to stderr (warnings and errors always, info when {@code
 * halfbisect.trt.verbose} is set) and keeps the warnings and errors of the current build so they
 * can be reported with it.
 */
final class TrtLogger extends ILogger {
  private static final boolean VERBOSE = Boolean.getBoolean("halfbisect.trt.verbose");
  private final List<String> errors = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();

  @Override
  public void log(Severity severity, String msg) {
    int v = severity.value; // compare values: native enums are not the Java constants (==)
    if (v <= Severity.kERROR.value) {
      WorkerLog.error("TensorRT: " + msg);
      synchronized (this) {
        errors.add(msg);
      }
    } else if (v == Severity.kWARNING.value) {
      WorkerLog.warn("TensorRT: " + msg);
      synchronized (this) {
        warnings.add(msg);
      }
    } else if (VERBOSE) {
      WorkerLog.debug("TensorRT: " + msg);
    }
  }

  synchronized void clear() {
    errors.clear();
    warnings.clear();
  }

  synchronized List<String> errors() {
    return new ArrayList<>(errors);
  }

  synchronized List<String> warnings() {
    return new ArrayList<>(warnings);
  }
}
