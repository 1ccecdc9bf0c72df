package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model whose initializer lives in a side file is built from bytes with its folder as base. */
class ExternalDataTest {
  @TempDir Path dir;

  @Test
  void externalInitializersResolveNextToTheModelFile() throws Exception {
    ByteBuffer w = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    w.putFloat(1f).putFloat(2f).putFloat(3f).putFloat(4f);
    Files.write(dir.resolve("weights.bin"), w.array());
    Onnx.TensorProto init =
        Onnx.TensorProto.newBuilder()
            .setName("w")
            .addDims(4)
            .setDataType(DType.FLOAT32.onnxCode())
            .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("offset").setValue("0"))
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("length").setValue("16"))
            .build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(ProtoModels.value("x", DType.FLOAT32, 4))
            .addOutput(ProtoModels.value("y", DType.FLOAT32, 4))
            .addInitializer(init)
            .addNode(ProtoModels.node("Add", "add", new String[] {"x", "w"}, "s"))
            .addNode(ProtoModels.node("Mul", "mul", new String[] {"s", "s"}, "y"))
            .build();
    Path file = dir.resolve("model.onnx");
    Files.write(file, ProtoModels.model("ext", g).bytes());
    try (BackendSession s =
        new OrtBackend(0)
            .open(ModelRef.ofPath(file), BuildOptions.of("fp32").withObserved(List.of("s")))) {
      var r = s.run(Map.of("x", Tensor.ofFloats(new long[] {4}, 1, 1, 1, 1)));
      assertThat(r.get("s").toFloatArray()).containsExactly(2f, 3f, 4f, 5f);
      assertThat(r.get("y").toFloatArray()).containsExactly(4f, 9f, 16f, 25f);
    }
  }
}
