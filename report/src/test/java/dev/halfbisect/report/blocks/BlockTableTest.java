package dev.halfbisect.report.blocks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.report.SampleReports;
import dev.halfbisect.report.blocks.BlockTable.Column;
import dev.halfbisect.report.model.TensorRow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockTableTest {
  private static final List<TensorRow> ROWS = new ArrayList<>();

  private static List<TensorRow> rows(String... nodeAndOp) {
    List<TensorRow> out = new ArrayList<>();
    for (int i = 0; i < nodeAndOp.length; i += 2) {
      out.add(
          TensorRow.of(
              nodeAndOp[i] + "_output_0",
              nodeAndOp[i],
              nodeAndOp[i + 1],
              1e-3 * (i / 2 + 1),
              0,
              true));
    }
    return out;
  }

  private static String tensorOf(BlockTable t, String block, Column c) {
    return t.cell(block, c).map(BlockTable.Cell::tensor).orElse(null);
  }

  @Test
  void preLayerNormViTFromTimm() {
    String p = "/blocks/blocks.4";
    List<TensorRow> r =
        rows(
            p + "/norm1/ReduceMean",
            "ReduceMean",
            p + "/norm1/Sub",
            "Sub",
            p + "/norm1/Pow",
            "Pow",
            p + "/norm1/ReduceMean_1",
            "ReduceMean",
            p + "/norm1/Add",
            "Add",
            p + "/norm1/Sqrt",
            "Sqrt",
            p + "/norm1/Div",
            "Div",
            p + "/norm1/Mul",
            "Mul",
            p + "/norm1/Add_1",
            "Add",
            p + "/attn/qkv/MatMul",
            "MatMul",
            p + "/attn/qkv/Add",
            "Add",
            p + "/attn/MatMul",
            "MatMul",
            p + "/attn/Softmax",
            "Softmax",
            p + "/attn/MatMul_1",
            "MatMul",
            p + "/attn/proj/MatMul",
            "MatMul",
            p + "/attn/proj/Add",
            "Add",
            p + "/Add",
            "Add",
            p + "/norm2/ReduceMean",
            "ReduceMean",
            p + "/norm2/Sub",
            "Sub",
            p + "/norm2/Pow",
            "Pow",
            p + "/norm2/ReduceMean_1",
            "ReduceMean",
            p + "/norm2/Add",
            "Add",
            p + "/norm2/Sqrt",
            "Sqrt",
            p + "/norm2/Div",
            "Div",
            p + "/norm2/Mul",
            "Mul",
            p + "/norm2/Add_1",
            "Add",
            p + "/mlp/fc1/MatMul",
            "MatMul",
            p + "/mlp/fc1/Add",
            "Add",
            p + "/mlp/act/Div",
            "Div",
            p + "/mlp/act/Erf",
            "Erf",
            p + "/mlp/act/Add",
            "Add",
            p + "/mlp/act/Mul",
            "Mul",
            p + "/mlp/act/Mul_1",
            "Mul",
            p + "/mlp/fc2/MatMul",
            "MatMul",
            p + "/mlp/fc2/Add",
            "Add",
            p + "/Add_1",
            "Add");
    BlockTable t = BlockTable.of(r);
    assertThat(t.blocks()).containsExactly("blocks.4");
    assertThat(tensorOf(t, "blocks.4", Column.ATTENTION)).isEqualTo(p + "/Add_output_0");
    assertThat(tensorOf(t, "blocks.4", Column.LAYERNORM)).isEqualTo(p + "/norm2/Add_1_output_0");
    assertThat(tensorOf(t, "blocks.4", Column.FC1)).isEqualTo(p + "/mlp/fc1/Add_output_0");
    assertThat(tensorOf(t, "blocks.4", Column.GELU)).isEqualTo(p + "/mlp/act/Mul_1_output_0");
    assertThat(tensorOf(t, "blocks.4", Column.FC2)).isEqualTo(p + "/mlp/fc2/Add_output_0");
    assertThat(tensorOf(t, "blocks.4", Column.OUTPUT)).isEqualTo(p + "/Add_1_output_0");
    assertThat(t.cell("blocks.4", Column.FC1).orElseThrow().error()).isEqualTo(1e-3 * 28);
  }

  @Test
  void postLayerNormBertFromHuggingFace() {
    String p = "/encoder/layer.0";
    List<TensorRow> r =
        rows(
            p + "/attention/self/query/MatMul",
            "MatMul",
            p + "/attention/self/query/Add",
            "Add",
            p + "/attention/self/key/MatMul",
            "MatMul",
            p + "/attention/self/key/Add",
            "Add",
            p + "/attention/self/MatMul",
            "MatMul",
            p + "/attention/self/Div",
            "Div",
            p + "/attention/self/Add",
            "Add",
            p + "/attention/self/Softmax",
            "Softmax",
            p + "/attention/self/MatMul_1",
            "MatMul",
            p + "/attention/self/Reshape_3",
            "Reshape",
            p + "/attention/output/dense/MatMul",
            "MatMul",
            p + "/attention/output/dense/Add",
            "Add",
            p + "/attention/output/Add",
            "Add",
            p + "/attention/output/LayerNorm/ReduceMean",
            "ReduceMean",
            p + "/attention/output/LayerNorm/Sub",
            "Sub",
            p + "/attention/output/LayerNorm/Pow",
            "Pow",
            p + "/attention/output/LayerNorm/Sqrt",
            "Sqrt",
            p + "/attention/output/LayerNorm/Div",
            "Div",
            p + "/attention/output/LayerNorm/Add_1",
            "Add",
            p + "/intermediate/dense/MatMul",
            "MatMul",
            p + "/intermediate/dense/Add",
            "Add",
            p + "/intermediate/intermediate_act_fn/Div",
            "Div",
            p + "/intermediate/intermediate_act_fn/Erf",
            "Erf",
            p + "/intermediate/intermediate_act_fn/Mul_1",
            "Mul",
            p + "/output/dense/MatMul",
            "MatMul",
            p + "/output/dense/Add",
            "Add",
            p + "/output/Add",
            "Add",
            p + "/output/LayerNorm/ReduceMean",
            "ReduceMean",
            p + "/output/LayerNorm/Add_1",
            "Add");
    BlockTable t = BlockTable.of(r);
    String b = "encoder/layer.0";
    assertThat(t.blocks()).containsExactly(b);
    assertThat(tensorOf(t, b, Column.ATTENTION)).isEqualTo(p + "/attention/output/Add_output_0");
    assertThat(tensorOf(t, b, Column.LAYERNORM))
        .isEqualTo(p + "/attention/output/LayerNorm/Add_1_output_0");
    assertThat(tensorOf(t, b, Column.FC1)).isEqualTo(p + "/intermediate/dense/Add_output_0");
    assertThat(tensorOf(t, b, Column.GELU))
        .isEqualTo(p + "/intermediate/intermediate_act_fn/Mul_1_output_0");
    assertThat(tensorOf(t, b, Column.FC2)).isEqualTo(p + "/output/dense/Add_output_0");
    assertThat(tensorOf(t, b, Column.OUTPUT)).isEqualTo(p + "/output/LayerNorm/Add_1_output_0");
  }

  @Test
  void fusedOpsAndBlocksInOrderOfAppearance() {
    List<TensorRow> r =
        rows(
            "/layers.2/ln_1/LayerNormalization",
            "LayerNormalization",
            "/layers.2/attn/Softmax",
            "Softmax",
            "/layers.2/Add",
            "Add",
            "/layers.2/ln_2/LayerNormalization",
            "LayerNormalization",
            "/layers.2/mlp/c_fc/MatMul",
            "MatMul",
            "/layers.2/mlp/Gelu",
            "Gelu",
            "/layers.2/mlp/c_proj/MatMul",
            "MatMul",
            "/layers.2/Add_1",
            "Add",
            "/layers.10/ln_1/LayerNormalization",
            "LayerNormalization",
            "/layers.10/Add_1",
            "Add",
            "/head/Gemm",
            "Gemm");
    BlockTable t = BlockTable.of(r);
    assertThat(t.blocks()).containsExactly("layers.2", "layers.10");
    assertThat(tensorOf(t, "layers.2", Column.ATTENTION)).isEqualTo("/layers.2/Add_output_0");
    assertThat(tensorOf(t, "layers.2", Column.LAYERNORM))
        .isEqualTo("/layers.2/ln_2/LayerNormalization_output_0");
    assertThat(tensorOf(t, "layers.2", Column.FC1)).isEqualTo("/layers.2/mlp/c_fc/MatMul_output_0");
    assertThat(tensorOf(t, "layers.2", Column.GELU)).isEqualTo("/layers.2/mlp/Gelu_output_0");
    assertThat(tensorOf(t, "layers.2", Column.FC2))
        .isEqualTo("/layers.2/mlp/c_proj/MatMul_output_0");
    // A block with only a LayerNorm and an Add: no MLP columns, output still known.
    assertThat(t.cell("layers.10", Column.FC1)).isEmpty();
    assertThat(tensorOf(t, "layers.10", Column.OUTPUT)).isEqualTo("/layers.10/Add_1_output_0");
  }

  @Test
  void sampleReportHasAllColumnsForEveryBlock() {
    BlockTable t = BlockTable.of(SampleReports.diagnose().tensorsOrEmpty());
    assertThat(t.blocks()).hasSize(12);
    for (String b : t.blocks()) {
      for (Column c : Column.values()) {
        assertThat(t.cell(b, c)).as(b + " " + c).isPresent();
      }
    }
    assertThat(t.cell("blocks.9", Column.ATTENTION).orElseThrow().pass()).isTrue();
    assertThat(t.cell("blocks.9", Column.LAYERNORM).orElseThrow().pass()).isFalse();
  }
}
