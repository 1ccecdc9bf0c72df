package dev.halfbisect.trt.worker;

import java.util.Locale;

/** Turns a native loading error into a message saying what is missing and how to install it. */
final class NativeProblems {
  static final String INSTALL =
      "Install TensorRT 10.6 (https://developer.nvidia.com/tensorrt) and put its lib folder "
          + "on LD_LIBRARY_PATH, or add org.bytedeco:tensorrt:10.6-1.5.11:linux-x86_64-redist to the class path; "
          + "CUDA 12 runtime: install the CUDA 12 toolkit or add org.bytedeco:cuda:12.6-9.5-1.5.11:linux-x86_64-redist; "
          + "a GPU needs the NVIDIA driver (nvidia-smi must list it).";

  private NativeProblems() {}

  static String explain(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t).append(' ');
    }
    String text = all.toString();
    String lower = text.toLowerCase(Locale.ROOT);
    String what;
    if (lower.contains("libcuda.so")) {
      what =
          "the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver/GPU on this machine?)";
    } else if (lower.contains("nvinfer")
        || lower.contains("nvonnxparser")
        || lower.contains("tensorrt")) {
      what = "TensorRT libraries could not be loaded";
    } else if (lower.contains("cudart")
        || lower.contains("cuda")
        || lower.contains("cublas")
        || lower.contains("cudnn")
        || lower.contains("nvrtc")) {
      what = "CUDA runtime libraries could not be loaded";
    } else {
      what = "native libraries of the TensorRT backend could not be loaded";
    }
    return what + " (" + text.trim() + "). " + INSTALL;
  }
}
