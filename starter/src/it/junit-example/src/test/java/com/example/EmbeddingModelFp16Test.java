package com.example;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.junit.HalfBisectAssertions;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The user guide's first JUnit example, run from a project that has only the coordinates. */
class EmbeddingModelFp16Test {
  static final Path MODEL = Path.of("target/models/model.onnx");
  static final Path OVERFLOWING = Path.of("target/models/overflowing.onnx");

  @BeforeAll
  static void writeModels() throws Exception {
    Files.createDirectories(MODEL.getParent());
    // y = relu(x) * 0.5: FP16 passes
    GraphBuilder g = GraphBuilder.create("healthy", 17);
    String x = g.input("x", DType.FLOAT32, 1, 16);
    g.output(g.mul(g.relu(x), g.scalar(DType.FLOAT32, 0.5f)));
    g.build().save(MODEL);
    // (x*300)^2 reaches 90000 > 65504: FP16 overflows in node "square"
    GraphBuilder o = GraphBuilder.create("overflowing", 17);
    String in = o.input("x", DType.FLOAT32, 1, 16);
    String scaled = o.op("Mul").in(in, o.scalar(DType.FLOAT32, 300f)).name("scale").add1();
    String squared = o.op("Pow").in(scaled, o.scalar(DType.FLOAT32, 2f)).name("square").add1();
    String shrunk = o.op("Mul").in(squared, o.scalar(DType.FLOAT32, 1e-4f)).name("shrink").add1();
    o.output(o.op("Add").in(shrunk, in).name("out_add").add1());
    o.build().save(OVERFLOWING);
  }

  // --- the user guide's example, as printed there ---
  @Test
  void passesInFp16() {
    HalfBisect hb = HalfBisect.model(Path.of("target/models/model.onnx"))
        .input("x:1x16:float32:-1..1");
    HalfBisectAssertions.assertPassesInFp16(hb, Tolerance.fp16Default());
  }
  // ---

  @Test
  void aFailureNamesTheOperationTheNodeAndTheFix() {
    HalfBisect hb = HalfBisect.model(OVERFLOWING).input("x:1x16:float32:-1..1");
    AssertionFailedError e =
        assertThrows(
            AssertionFailedError.class,
            () -> HalfBisectAssertions.assertPassesInFp16(hb, Tolerance.fp16Default()));
    String m = e.getMessage();
    assertTrue(m.contains("compare: FAIL"), m);
    assertTrue(m.contains("first failing node: 'square' (Pow)"), m);
    assertTrue(m.contains("fix to try:"), m);
  }
}
