package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;

/**
 * One layer of a built engine as TensorRT's engine inspector describes it (JSON, detailed
 * verbosity): its possibly fused name, type, metadata, and the data types of its inputs and outputs
 * as written in their {@code Format/Datatype} fields.
 */
public record EngineLayer(
    String name,
    String layerType,
    String metadata,
    ImmutableList<String> inputFormats,
    ImmutableList<String> outputFormats) {
  /** Precision of a layer judged from the float tensors it reads and writes. */
  public enum Precision {
    FP32,
    FP16,
    MIXED,
    NO_FLOAT_IO
  }

  public EngineLayer {
    metadata = metadata == null ? "" : metadata;
    layerType = layerType == null ? "" : layerType;
    inputFormats = ImmutableList.copyOf(inputFormats);
    outputFormats = ImmutableList.copyOf(outputFormats);
  }

  /**
   * FP32 when every float input/output is FP32, FP16 when all are half (FP16 or BF16), MIXED
   * otherwise.
   */
  public Precision precision() {
    boolean f32 = false;
    boolean f16 = false;
    for (String f :
        ImmutableList.<String>builder().addAll(inputFormats).addAll(outputFormats).build()) {
      switch (formatType(f)) {
        case FP32:
          f32 = true;
          break;
        case FP16:
          f16 = true;
          break;
        default:
          break;
      }
    }
    if (f32 && f16) {
      return Precision.MIXED;
    }
    return f32 ? Precision.FP32 : f16 ? Precision.FP16 : Precision.NO_FLOAT_IO;
  }

  /**
   * Classifies a {@code Format/Datatype} text such as {@code "Row major linear FP32"} or {@code
   * "Half"}.
   */
  public static Precision formatType(String format) {
    String f = format.toUpperCase(java.util.Locale.ROOT);
    // issue 19: BF16 counts as half precision (the strongly typed BF16 builds)
    if (f.contains("FP16") || f.contains("HALF") || f.contains("BF16")) {
      return Precision.FP16;
    }
    if (f.contains("FP32") || f.contains("FLOAT")) {
      return Precision.FP32;
    }
    return Precision.NO_FLOAT_IO;
  }

  /** Whether this is a Myelin region {@code {ForeignNode[a...b]}}. */
  public boolean isForeignNode() {
    return !LayerNames.foreignNodeBounds(name).isEmpty();
  }
}
