package dev.halfbisect.trt.worker;

import java.util.List;
import org.bytedeco.tensorrt.global.nvinfer.BuilderFlag;
import org.bytedeco.tensorrt.global.nvinfer.DataType;
import org.bytedeco.tensorrt.global.nvinfer.NetworkDefinitionCreationFlag;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.ILayer;
import org.bytedeco.tensorrt.nvinfer.ITensor;

/** {@link TrtApi} for TensorRT 10 (bytedeco 10.6-1.5.11): weak and strong typing. */
final class TrtApiImpl implements TrtApi {
  static final TrtApiImpl INSTANCE = new TrtApiImpl();

  private TrtApiImpl() {}

  @Override
  public int presetsMajor() {
    return 10;
  }

  @Override
  public boolean hasWeakTyping() {
    return true;
  }

  @Override
  public int networkFlags(boolean stronglyTyped) {
    return stronglyTyped ? 1 << NetworkDefinitionCreationFlag.kSTRONGLY_TYPED.value : 0;
  }

  @Override
  public void enableFp16(IBuilderConfig config) {
    config.setFlag(BuilderFlag.kFP16);
  }

  @Override
  public void obeyPrecisionConstraints(IBuilderConfig config) {
    config.setFlag(BuilderFlag.kOBEY_PRECISION_CONSTRAINTS);
  }

  @Override
  public void pinFp32(ILayer layer, List<Integer> floatOutputs) {
    layer.setPrecision(DataType.kFLOAT);
    for (int o : floatOutputs) {
      layer.setOutputType(o, DataType.kFLOAT);
    }
  }

  @Override
  public void typeHalf(ITensor outputTensor) {
    outputTensor.setType(DataType.kHALF);
  }
}
