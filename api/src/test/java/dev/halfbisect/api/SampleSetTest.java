package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npz;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15: sample sets from files and text, BERT-like derived token ids. */
class SampleSetTest {
  @TempDir Path tmp;

  /** A BERT's three integer inputs [1, 16], mixed into one float output the interpreter runs. */
  static OnnxModel bertLike() {
    GraphBuilder b = GraphBuilder.create("bertlike", 13);
    String ids = b.input("input_ids", DType.INT64, 1, 16);
    String mask = b.input("attention_mask", DType.INT64, 1, 16);
    String type = b.input("token_type_ids", DType.INT64, 1, 16);
    String x =
        b.add(
            b.mul(b.cast(ids, DType.FLOAT32), b.cast(mask, DType.FLOAT32)),
            b.cast(type, DType.FLOAT32));
    b.output(b.mul(x, b.scalar(DType.FLOAT32, 1e-3f)), "out");
    return b.build();
  }

  private static HalfBisect interp(OnnxModel m) {
    return HalfBisect.model(m).reference("interp:fp32").candidate("interp:fp16-emulated");
  }

  @Test
  void derivedTokenIdsOfABertStartWithClsAndEndWithSep() {
    HalfBisect hb = interp(bertLike());
    CompareResult r = hb.samples(2).compare();
    assertThat(r.report().warnings())
        .anySatisfy(w -> assertThat(w).contains("input_ids:1x16:int64:0..1000,first=101,last=102"))
        .anySatisfy(w -> assertThat(w).contains("looks like a BERT", "101 ([CLS])", "102 ([SEP])"));
  }

  @Test
  void severalFilesMakeTheSampleSetAndSetTheSampleCount() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("set"));
    for (int i = 0; i < 3; i++) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      long[] v = new long[16];
      java.util.Arrays.fill(v, 100 * (i + 1));
      m.put("input_ids", Tensor.ofLongs(new long[] {1, 16}, v));
      Npz.write(dir.resolve("s" + i + ".npz"), m);
    }
    CompareResult r = interp(bertLike()).loadInputs(List.of(dir), false).compare();
    assertThat(r.unwrap(Layerwise.Result.class).orElseThrow().tensors().get(0).error().perSample())
        .hasSize(3);
    assertThatThrownBy(
            () -> interp(bertLike()).loadInputs(List.of(dir), false).samples(5).compare())
        .hasMessageContaining("--samples 5 conflicts with the 3 samples");

    Map<String, Tensor> stacked = new LinkedHashMap<>();
    stacked.put("input_ids", Tensor.ofLongs(new long[] {4, 1, 16}, new long[64]));
    Path f = tmp.resolve("stacked.npz");
    Npz.write(f, stacked);
    CompareResult s = interp(bertLike()).loadInputs(List.of(f), true).compare();
    assertThat(s.unwrap(Layerwise.Result.class).orElseThrow().tensors().get(0).error().perSample())
        .hasSize(4);
    assertThatThrownBy(() -> interp(bertLike()).loadInputs(List.of(tmp.resolve("nope")), false))
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining("nope not found");
  }

  @Test
  void textLinesAreTokenizedWithTheMiniLmTokenizer() throws Exception {
    Path tok = tmp.resolve("tokenizer.json");
    try (InputStream in =
        SampleSetTest.class
            .getClassLoader()
            .getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tok);
    }
    Path text = tmp.resolve("lines.txt");
    Files.writeString(
        text,
        "hello world\n\nthe quick brown fox jumps over the lazy dog again and again and again and again\n");
    HalfBisect hb = interp(bertLike()).text(text, tok);
    CompareResult r = hb.compare();
    assertThat(r.unwrap(Layerwise.Result.class).orElseThrow().tensors().get(0).error().perSample())
        .hasSize(2);
    List<Map<String, Tensor>> samples =
        TextSamples.tokenize(
            text,
            tok,
            new LinkedHashMap<>(Map.of("input_ids", DType.INT64, "attention_mask", DType.INT64)),
            16);
    long[] ids = samples.get(0).get("input_ids").toLongArray();
    long[] mask = samples.get(0).get("attention_mask").toLongArray();
    assertThat(ids).hasSize(16);
    assertThat(ids[0]).isEqualTo(101); // [CLS]
    assertThat(ids[3]).isEqualTo(102); // [SEP] after "hello world"
    assertThat(ids[4]).isZero(); // padding
    assertThat(mask).startsWith(1, 1, 1, 1, 0);
    long[] longIds = samples.get(1).get("input_ids").toLongArray();
    assertThat(longIds[15]).as("truncated to the sequence length, [SEP] kept").isEqualTo(102);
    assertThat(r.report().warnings()).noneMatch(w -> w.contains("looks like a BERT"));

    assertThatThrownBy(() -> interp(bertLike()).text(text, tmp.resolve("missing.json")))
        .hasMessageContaining("tokenizer " + tmp.resolve("missing.json"))
        .hasMessageContaining("not found");
    assertThatThrownBy(() -> interp(bertLike()).text(text, text))
        .hasMessageContaining("cannot tokenize text file");
  }
}
