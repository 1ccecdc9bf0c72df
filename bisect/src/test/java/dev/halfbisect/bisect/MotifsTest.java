package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Motif patterns on graphs written for them (detection only, nothing runs). */
class MotifsTest {

  @Test
  void tanhGeluAttentionSoftmaxAndConvBnRelu() {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, 8);
    // 0.5 * x * (1 + tanh(0.79788 * (x + 0.044715 * x^3))), x from a bias Add that is not GELU
    String x = t.node("Add", "bias", "x", t.scalar(0.1f));
    String cube = t.node("Pow", "g/pow", x, t.scalar(3f));
    String sc = t.node("Mul", "g/mul_c", cube, t.scalar(0.044715f));
    String in = t.node("Add", "g/add_x", x, sc);
    String k = t.node("Mul", "g/mul_k", in, t.scalar(0.7978846f));
    String th = t.node("Tanh", "g/tanh", k);
    String one = t.node("Add", "g/add_1", th, t.scalar(1f));
    String xm = t.node("Mul", "g/mul_x", x, one);
    String half = t.node("Mul", "g/half", xm, t.scalar(0.5f));
    // Q K^T / sqrt(d) + mask -> Softmax -> x V
    String qk =
        t.node("MatMul", "att/qk", half, t.randomMatrix("K", 8, 8, 0.1f, new java.util.Random(1)));
    String scaled = t.node("Div", "att/scale", qk, t.scalar(2.83f));
    String masked = t.node("Add", "att/mask", scaled, t.scalar(0f));
    String sm = t.node("Softmax", "att/softmax", masked);
    String v =
        t.node("MatMul", "att/v", sm, t.randomMatrix("V", 8, 8, 0.1f, new java.util.Random(2)));
    t.output(v);
    ModelGraph g = t.graph("motifs");
    List<Motifs.Motif> m = Motifs.detect(g);
    Motifs.Motif gelu =
        m.stream().filter(mo -> mo.kind() == Motifs.Kind.GELU).findFirst().orElseThrow();
    assertThat(gelu.anchor()).isEqualTo("g/tanh");
    assertThat(gelu.nodes())
        .containsExactly(
            "g/pow", "g/mul_c", "g/add_x", "g/mul_k", "g/tanh", "g/add_1", "g/mul_x", "g/half");
    Motifs.Motif att =
        m.stream()
            .filter(mo -> mo.kind() == Motifs.Kind.ATTENTION_SOFTMAX)
            .findFirst()
            .orElseThrow();
    assertThat(att.nodes()).containsExactly("att/scale", "att/mask", "att/softmax");
    assertThat(m.stream().filter(mo -> mo.kind() == Motifs.Kind.MATMUL).map(Motifs.Motif::anchor))
        .containsExactly("att/qk", "att/v");
  }

  @Test
  void convBnReluAndFusedLayerNorm() {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, 3, 8, 8);
    String c = t.node("Conv", "conv", "x", t.scalar(1f));
    String bn =
        t.node(
            "BatchNormalization", "bn", c, t.scalar(1f), t.scalar(0f), t.scalar(0f), t.scalar(1f));
    String r = t.node("Relu", "relu", bn);
    String ln = t.node("LayerNormalization", "ln", r, t.scalar(1f), t.scalar(0f));
    t.output(ln);
    List<Motifs.Motif> m = Motifs.detect(t.graph("cnn"));
    assertThat(m)
        .extracting(Motifs.Motif::kind)
        .containsExactly(Motifs.Kind.LAYER_NORM, Motifs.Kind.CONV_BN_RELU);
    assertThat(m.get(1).nodes()).containsExactly("conv", "bn", "relu");
    assertThat(m.get(0).nodes()).containsExactly("ln");
  }
}
