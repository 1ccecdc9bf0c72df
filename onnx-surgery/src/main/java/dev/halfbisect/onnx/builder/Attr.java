package dev.halfbisect.onnx.builder;

import com.google.protobuf.ByteString;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.onnx.proto.Onnx.AttributeProto.AttributeType;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Java value to {@code AttributeProto}: Integer/Long -> INT, Float/Double -> FLOAT, String ->
 * STRING, long[]/int[] -> INTS, float[] -> FLOATS, String[] -> STRINGS, Tensor -> TENSOR.
 */
final class Attr {
  private Attr() {}

  static Onnx.AttributeProto of(String name, Object value) {
    Onnx.AttributeProto.Builder b = Onnx.AttributeProto.newBuilder().setName(name);
    if (value instanceof Integer || value instanceof Long) {
      b.setType(AttributeType.INT).setI(((Number) value).longValue());
    } else if (value instanceof Float || value instanceof Double) {
      b.setType(AttributeType.FLOAT).setF(((Number) value).floatValue());
    } else if (value instanceof String) {
      b.setType(AttributeType.STRING)
          .setS(ByteString.copyFrom((String) value, StandardCharsets.UTF_8));
    } else if (value instanceof long[]) {
      b.setType(AttributeType.INTS);
      for (long v : (long[]) value) {
        b.addInts(v);
      }
    } else if (value instanceof int[]) {
      b.setType(AttributeType.INTS);
      for (int v : (int[]) value) {
        b.addInts(v);
      }
    } else if (value instanceof float[]) {
      b.setType(AttributeType.FLOATS);
      for (float v : (float[]) value) {
        b.addFloats(v);
      }
    } else if (value instanceof String[]) {
      b.setType(AttributeType.STRINGS);
      for (String v : (String[]) value) {
        b.addStrings(ByteString.copyFrom(v, StandardCharsets.UTF_8));
      }
    } else if (value instanceof List) {
      List<?> list = (List<?>) value;
      long[] ints = new long[list.size()];
      for (int i = 0; i < ints.length; i++) {
        if (!(list.get(i) instanceof Number)) {
          throw new IllegalArgumentException(
              "attribute " + name + ": list attributes must hold numbers, got " + list);
        }
        ints[i] = ((Number) list.get(i)).longValue();
      }
      return of(name, ints);
    } else if (value instanceof Tensor) {
      b.setType(AttributeType.TENSOR).setT(TensorProtos.of("", (Tensor) value));
    } else if (value instanceof Onnx.TensorProto) {
      b.setType(AttributeType.TENSOR).setT((Onnx.TensorProto) value);
    } else {
      throw new IllegalArgumentException(
          "attribute "
              + name
              + ": unsupported value type "
              + (value == null ? "null" : value.getClass().getName()));
    }
    return b.build();
  }
}
