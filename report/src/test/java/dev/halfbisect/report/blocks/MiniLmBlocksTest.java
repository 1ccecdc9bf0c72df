package dev.halfbisect.report.blocks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.onnx.testing.MiniLmModel;
import dev.halfbisect.report.blocks.BlockTable.Column;
import dev.halfbisect.report.model.TensorRow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Block detection and checkpoints on the node names of the real all-MiniLM-L6-v2 export
 * (torch.onnx, opset 11).
 */
class MiniLmBlocksTest {
  @Test
  void findsSixBertLayersWithAllCheckpoints() throws Exception {
    OnnxModel m = OnnxModel.parse(MiniLmModel.bytes(), null, "all-minilm-l6-v2");
    List<TensorRow> rows = new ArrayList<>();
    for (Onnx.NodeProto n : m.index().nodes()) {
      rows.add(TensorRow.of(n.getOutput(0), n.getName(), n.getOpType(), 1e-3, 0, true));
    }
    BlockTable t = BlockTable.of(rows);
    assertThat(t.blocks())
        .containsExactly(
            "encoder/layer.0",
            "encoder/layer.1",
            "encoder/layer.2",
            "encoder/layer.3",
            "encoder/layer.4",
            "encoder/layer.5");
    for (int i = 0; i < 6; i++) {
      String b = "encoder/layer." + i;
      String p = "/" + b;
      assertThat(t.cell(b, Column.ATTENTION).orElseThrow().node())
          .isEqualTo(p + "/attention/output/Add");
      assertThat(t.cell(b, Column.LAYERNORM).orElseThrow().node())
          .isEqualTo(p + "/attention/output/LayerNorm/Add_1");
      assertThat(t.cell(b, Column.FC1).orElseThrow().node())
          .isEqualTo(p + "/intermediate/dense/Add");
      assertThat(t.cell(b, Column.GELU).orElseThrow().node())
          .isEqualTo(p + "/intermediate/intermediate_act_fn/Mul_1");
      assertThat(t.cell(b, Column.FC2).orElseThrow().node()).isEqualTo(p + "/output/dense/Add");
      assertThat(t.cell(b, Column.OUTPUT).orElseThrow().node())
          .isEqualTo(p + "/output/LayerNorm/Add_1");
    }
  }
}
