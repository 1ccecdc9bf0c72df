package dev.halfbisect.trt.worker;

import java.util.List;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.ILayer;
import org.bytedeco.tensorrt.nvinfer.ITensor;

/**
 * The TensorRT calls whose form depends on the TensorRT major version (issue 19): TensorRT 11
 * removed weak typing ({@code BuilderFlag.kFP16}, {@code kOBEY_PRECISION_CONSTRAINTS}, {@code
 * ILayer.setPrecision}/{@code setOutputType}) and deprecated the strongly-typed creation flag
 * (every network is strongly typed there). Everything else the worker calls is the same in both.
 *
 * <p>The one implementation, {@code TrtApiImpl}, comes from a version-specific source folder:
 * {@code src/trt10/java} in the default build (bytedeco {@code tensorrt 10.6-1.5.11}), {@code
 * src/trt11/java} under the Maven profile {@code trt11} (bytedeco {@code tensorrt 11.2-1.5.14}) and
 * in the {@code tensorrt-trt11} compile check that CI builds.
 */
interface TrtApi {
  /** The implementation this module was compiled with. */
  static TrtApi get() {
    return TrtApiImpl.INSTANCE;
  }

  /** Major version of the bytedeco presets compiled against (10 or 11). */
  int presetsMajor();

  /** Whether weak typing ({@link #enableFp16}, {@link #pinFp32}) exists in this API. */
  boolean hasWeakTyping();

  /** {@code createNetworkV2} flags for a strongly typed (or default) network. */
  int networkFlags(boolean stronglyTyped);

  /** Weak typing: lets TensorRT choose FP16 kernels. */
  void enableFp16(IBuilderConfig config);

  /** Weak typing: makes the builder obey layer precision constraints. */
  void obeyPrecisionConstraints(IBuilderConfig config);

  /** Weak typing: the layer computes in FP32 and writes {@code floatOutputs} in FP32. */
  void pinFp32(ILayer layer, List<Integer> floatOutputs);

  /** Weak typing: a network output tensor is written in FP16 ({@code ITensor.setType}). */
  void typeHalf(ITensor outputTensor);
}
