package dev.halfbisect.trt.worker;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.tensorrt.global.nvinfer;

/**
 * The GPU the worker builds for, with the TensorRT version loaded: what a timing cache is specific
 * to and what the worker reports about itself.
 *
 * @param name the CUDA device name, e.g. {@code NVIDIA H200}
 * @param trtVersion {@code major.minor.patch} of the loaded TensorRT library
 * @param memoryMiB the GPU's global memory (the client sizes its worker pools by it)
 */
record GpuDevice(String name, int ccMajor, int ccMinor, String trtVersion, long memoryMiB) {

  /**
   * Selects GPU 0 and reads its properties and the TensorRT version.
   *
   * @throws GpuUnavailableException when CUDA finds no usable GPU
   */
  static GpuDevice select() {
    int[] count = new int[1];
    int rc = cudaGetDeviceCount(count);
    if (rc != 0 || count[0] == 0) {
      throw new GpuUnavailableException(
          "no CUDA GPU is usable (cudaGetDeviceCount: "
              + (rc != 0 ? cudaGetErrorString(rc).getString() : "0 devices")
              + "); "
              + NativeProblems.INSTALL);
    }
    TrtService.check(cudaSetDevice(0), "cudaSetDevice(0)");
    cudaDeviceProp prop = new cudaDeviceProp();
    TrtService.check(cudaGetDeviceProperties(prop, 0), "cudaGetDeviceProperties");
    String trt =
        nvinfer.getInferLibMajorVersion()
            + "."
            + nvinfer.getInferLibMinorVersion()
            + "."
            + nvinfer.getInferLibPatchVersion();
    return new GpuDevice(
        prop.name().getString(), prop.major(), prop.minor(), trt, prop.totalGlobalMem() >> 20);
  }

  /** {@code TensorRT 10.6.0 on NVIDIA H200 (compute capability 9.0, 143771 MiB)}. */
  String describe() {
    return "TensorRT "
        + trtVersion
        + " on "
        + name
        + " (compute capability "
        + ccMajor
        + "."
        + ccMinor
        + ", "
        + memoryMiB
        + " MiB)";
  }
}
