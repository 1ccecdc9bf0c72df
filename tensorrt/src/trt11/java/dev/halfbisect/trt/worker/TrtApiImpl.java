package dev.halfbisect.trt.worker;

import java.util.List;
import org.bytedeco.tensorrt.global.nvinfer.NetworkDefinitionCreationFlag;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.ILayer;
import org.bytedeco.tensorrt.nvinfer.ITensor;

/**
 * {@link TrtApi} for TensorRT 11 (bytedeco 11.2-1.5.14): strong typing only. The client maps {@code
 * trt:fp16} to {@code fp16-strong} on TensorRT 11, so the weak calls are never reached; if they
 * are, they say why instead of building something else.
 */
final class TrtApiImpl implements TrtApi {
  static final TrtApiImpl INSTANCE = new TrtApiImpl();

  private static final String NO_WEAK =
      "TensorRT 11 has no weak typing (kFP16, layer precision constraints): use trt:fp16-strong";

  private TrtApiImpl() {}

  @Override
  public int presetsMajor() {
    return 11;
  }

  @Override
  public boolean hasWeakTyping() {
    return false;
  }

  // every TensorRT 11 network is strongly typed; the flag is deprecated but still accepted, and
  // passing it keeps the meaning explicit on 11.x releases that still read it
  @SuppressWarnings("deprecation")
  @Override
  public int networkFlags(boolean stronglyTyped) {
    return stronglyTyped ? 1 << NetworkDefinitionCreationFlag.kSTRONGLY_TYPED.value : 0;
  }

  @Override
  public void enableFp16(IBuilderConfig config) {
    throw new UnsupportedOperationException(NO_WEAK);
  }

  @Override
  public void obeyPrecisionConstraints(IBuilderConfig config) {
    throw new UnsupportedOperationException(NO_WEAK);
  }

  @Override
  public void pinFp32(ILayer layer, List<Integer> floatOutputs) {
    throw new UnsupportedOperationException(NO_WEAK);
  }

  @Override
  public void typeHalf(ITensor outputTensor) { // TensorRT 11 types every tensor from the graph
    throw new UnsupportedOperationException(NO_WEAK);
  }
}
