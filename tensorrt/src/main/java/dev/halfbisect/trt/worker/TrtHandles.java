package dev.halfbisect.trt.worker;

import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * The TensorRT objects a worker keeps for its whole life: one logger, builder and runtime (the
 * presets cannot free TensorRT objects, bytedeco issue 1699; the process exit does).
 */
record TrtHandles(TrtLogger logger, IBuilder builder, IRuntime runtime) {

  /**
   * Creates the logger, builder and runtime on the selected GPU.
   *
   * @throws GpuUnavailableException when TensorRT cannot create a builder or runtime there
   */
  static TrtHandles create(GpuDevice gpu) {
    TrtLogger logger = new TrtLogger();
    IBuilder builder = nvinfer.createInferBuilder(logger);
    IRuntime runtime = nvinfer.createInferRuntime(logger);
    if (builder == null || builder.isNull() || runtime == null || runtime.isNull()) {
      throw new GpuUnavailableException(
          "TensorRT "
              + gpu.trtVersion()
              + " ("
              + nvinfer.getInferLibVersion()
              + ") could not create a builder on "
              + gpu.name()
              + ": "
              + logger.errors());
    }
    return new TrtHandles(logger, builder, runtime);
  }
}
