package dev.halfbisect.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded, deterministic mutator of serialized ONNX models for fuzzing the loader, the graph index
 * and the surgery operations. Half of the mutations are structural (decoded proto edited: nodes
 * dropped, duplicated, renamed or rewired into cycles; dims, dtypes and external-data entries
 * corrupted; huge declared sizes), half work on the bytes (flips, inserts, deletions, truncation,
 * varint bombs). The same (seed corpus, seed) always yields the same sequence of inputs, so a
 * failure is reproduced from the printed seed and iteration alone.
 */
final class ModelMutator {
  /** One mutated input and what was done to make it (for failure messages). */
  record Mutant(byte[] bytes, String description) {}

  private final List<byte[]> corpus;
  private final SplittableRandom rnd;

  ModelMutator(List<byte[]> corpus, long seed) {
    this.corpus = List.copyOf(corpus);
    this.rnd = new SplittableRandom(seed);
  }

  /** The next input: a corpus entry with 1 to 4 stacked mutations. */
  Mutant next() {
    byte[] bytes = corpus.get(rnd.nextInt(corpus.size()));
    int rounds = 1 + rnd.nextInt(4);
    StringBuilder what = new StringBuilder();
    for (int i = 0; i < rounds; i++) {
      String step;
      if (rnd.nextBoolean()) {
        Onnx.ModelProto p = decode(bytes);
        if (p == null) {
          step = "bytes:" + byteMutation(bytes);
          bytes = lastBytes;
        } else {
          Onnx.ModelProto.Builder b = p.toBuilder();
          step = "proto:" + structuralMutation(b);
          bytes = b.build().toByteArray();
        }
      } else {
        step = "bytes:" + byteMutation(bytes);
        bytes = lastBytes;
      }
      what.append(i == 0 ? "" : " + ").append(step);
    }
    return new Mutant(bytes, what.toString());
  }

  private static Onnx.ModelProto decode(byte[] bytes) {
    try {
      return Onnx.ModelProto.parseFrom(bytes);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return null;
    }
  }

  // ---- byte-level mutations ---------------------------------------------------------------

  private byte[] lastBytes;

  private String byteMutation(byte[] in) {
    int len = in.length;
    int at = len == 0 ? 0 : rnd.nextInt(len);
    switch (rnd.nextInt(8)) {
      case 0:
        {
          byte[] out = in.clone();
          int flips = 1 + rnd.nextInt(8);
          for (int i = 0; i < flips && len > 0; i++) {
            out[rnd.nextInt(len)] ^= (byte) (1 << rnd.nextInt(8));
          }
          lastBytes = out;
          return "flip " + flips + " bits";
        }
      case 1:
        {
          byte[] ins = new byte[1 + rnd.nextInt(16)];
          rnd.nextBytes(ins);
          lastBytes = splice(in, at, 0, ins);
          return "insert " + ins.length + " bytes at " + at;
        }
      case 2:
        {
          int n = Math.min(len - at, 1 + rnd.nextInt(64));
          lastBytes = splice(in, at, n, new byte[0]);
          return "delete " + n + " bytes at " + at;
        }
      case 3:
        lastBytes = Arrays.copyOf(in, at);
        return "truncate to " + at;
      case 4:
        {
          // an over-long or maximal varint: length prefixes that claim gigabytes
          byte[] bomb = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x07};
          lastBytes = splice(in, at, Math.min(len - at, 1), bomb);
          return "varint bomb at " + at;
        }
      case 5:
        {
          int n = Math.min(len - at, 1 + rnd.nextInt(128));
          byte[] dup = Arrays.copyOfRange(in, at, at + n);
          lastBytes = splice(in, at, 0, dup);
          return "duplicate " + n + " bytes at " + at;
        }
      case 6:
        {
          byte[] out = in.clone();
          int n = Math.min(len - at, 1 + rnd.nextInt(8));
          for (int i = 0; i < n; i++) {
            out[at + i] = (byte) (rnd.nextBoolean() ? 0x00 : 0xff);
          }
          lastBytes = out;
          return "overwrite " + n + " bytes at " + at + " with 00/ff";
        }
      default:
        {
          byte[] other = corpus.get(rnd.nextInt(corpus.size()));
          int cut = other.length == 0 ? 0 : rnd.nextInt(other.length);
          lastBytes = splice(in, at, len - at, Arrays.copyOfRange(other, cut, other.length));
          return "crossover at " + at;
        }
    }
  }

  private static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
    byte[] out = new byte[in.length - remove + insert.length];
    System.arraycopy(in, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(in, at + remove, out, at + insert.length, in.length - at - remove);
    return out;
  }

  // ---- structural mutations ---------------------------------------------------------------

  private static final long[] HUGE = {
    -1,
    -7,
    0,
    1_000_000_000_000L,
    Long.MAX_VALUE,
    Long.MIN_VALUE,
    Integer.MAX_VALUE,
    1L << 31,
    1L << 40
  };

  private String structuralMutation(Onnx.ModelProto.Builder m) {
    Onnx.GraphProto.Builder g = m.getGraphBuilder();
    int nodes = g.getNodeCount();
    switch (rnd.nextInt(18)) {
      case 0:
        if (nodes > 0) {
          int i = rnd.nextInt(nodes);
          g.removeNode(i);
          return "drop node " + i;
        }
        return "none";
      case 1:
        if (nodes > 0) {
          int i = rnd.nextInt(nodes);
          g.addNode(rnd.nextInt(nodes + 1), g.getNode(i));
          return "duplicate node " + i;
        }
        return "none";
      case 2:
        if (nodes > 0) {
          int i = rnd.nextInt(nodes);
          String name = pickName(g);
          g.setNode(i, g.getNode(i).toBuilder().setName(name));
          return "rename node " + i + " to '" + name + "'";
        }
        return "none";
      case 3:
        if (nodes > 0) {
          // rewire one input to a random value (maybe a later output -> cycle, maybe dangling)
          int i = rnd.nextInt(nodes);
          Onnx.NodeProto.Builder n = g.getNode(i).toBuilder();
          String v = pickValue(g);
          if (n.getInputCount() > 0 && rnd.nextBoolean()) {
            n.setInput(rnd.nextInt(n.getInputCount()), v);
          } else {
            n.addInput(v);
          }
          g.setNode(i, n);
          return "rewire node " + i + " input to '" + v + "'";
        }
        return "none";
      case 4:
        if (nodes > 0) {
          int i = rnd.nextInt(nodes);
          Onnx.NodeProto.Builder n = g.getNode(i).toBuilder();
          String v = pickValue(g);
          if (n.getOutputCount() > 0) {
            n.setOutput(rnd.nextInt(n.getOutputCount()), v);
          } else {
            n.addOutput(v);
          }
          g.setNode(i, n);
          return "node " + i + " output renamed to '" + v + "'";
        }
        return "none";
      case 5:
        {
          // a cycle: the first node also consumes the last node's output
          if (nodes > 1 && g.getNode(nodes - 1).getOutputCount() > 0) {
            g.setNode(0, g.getNode(0).toBuilder().addInput(g.getNode(nodes - 1).getOutput(0)));
            return "cycle first<-last";
          }
          return "none";
        }
      case 6:
        return corruptValueInfo(g);
      case 7:
        return corruptInitializerDims(g);
      case 8:
        return corruptInitializerType(g);
      case 9:
        return corruptExternalData(g);
      case 10:
        if (g.getInitializerCount() > 0) {
          int i = rnd.nextInt(g.getInitializerCount());
          g.addInitializer(g.getInitializer(i).toBuilder().setName(pickValue(g)));
          return "duplicate initializer " + i + " under another name";
        }
        return "none";
      case 11:
        if (nodes > 0) {
          int i = rnd.nextInt(nodes);
          g.setNode(
              i,
              g.getNode(i).toBuilder()
                  .setOpType(
                      pick(
                          "",
                          "If",
                          "Loop",
                          "Scan",
                          "Cast",
                          "Constant",
                          "Reshape",
                          "MatMul",
                          "Custom",
                          "LayerNormalization",
                          "\u0000")));
          return "op type of node " + i + " changed";
        }
        return "none";
      case 12:
        return corruptAttribute(g);
      case 13:
        if (g.getOutputCount() > 0) {
          g.setOutput(
              rnd.nextInt(g.getOutputCount()), g.getOutput(0).toBuilder().setName(pickName(g)));
          return "graph output renamed";
        }
        return "none";
      case 14:
        g.addInput(Onnx.ValueInfoProto.newBuilder().setName(pickValue(g)));
        return "graph input without type";
      case 15:
        m.clearOpsetImport();
        if (rnd.nextBoolean()) {
          m.addOpsetImport(
              Onnx.OperatorSetIdProto.newBuilder()
                  .setDomain("")
                  .setVersion(HUGE[rnd.nextInt(HUGE.length)]));
        }
        return "opset import replaced";
      case 16:
        {
          // deep nesting: a node whose graph attribute holds the graph itself, several levels
          Onnx.GraphProto inner = g.build();
          int depth = 1 + rnd.nextInt(6);
          for (int d = 0; d < depth; d++) {
            inner =
                inner.toBuilder()
                    .clearNode()
                    .addNode(
                        Onnx.NodeProto.newBuilder()
                            .setOpType("If")
                            .addInput(pickValue(g))
                            .addOutput("nested_" + d)
                            .addAttribute(
                                Onnx.AttributeProto.newBuilder()
                                    .setName("then_branch")
                                    .setType(Onnx.AttributeProto.AttributeType.GRAPH)
                                    .setG(inner)))
                    .build();
          }
          g.addNode(inner.getNode(0));
          return "nested If " + depth + " deep";
        }
      default:
        g.clearValueInfo();
        if (rnd.nextBoolean()) {
          g.clearOutput();
        }
        return "value_info (and maybe outputs) cleared";
    }
  }

  private String corruptValueInfo(Onnx.GraphProto.Builder g) {
    List<Onnx.ValueInfoProto.Builder> all = new ArrayList<>();
    all.addAll(g.getInputBuilderList());
    all.addAll(g.getOutputBuilderList());
    all.addAll(g.getValueInfoBuilderList());
    if (all.isEmpty()) {
      return "none";
    }
    Onnx.ValueInfoProto.Builder v = all.get(rnd.nextInt(all.size()));
    Onnx.TypeProto.Tensor.Builder t = v.getTypeBuilder().getTensorTypeBuilder();
    if (rnd.nextBoolean()) {
      t.setElemType(rnd.nextBoolean() ? rnd.nextInt(40) - 2 : Integer.MAX_VALUE);
      return "value '" + v.getName() + "' elem type " + t.getElemType();
    }
    Onnx.TensorShapeProto.Builder s = t.getShapeBuilder();
    int dims = rnd.nextInt(4);
    for (int i = 0; i < dims; i++) {
      s.addDim(
          Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(HUGE[rnd.nextInt(HUGE.length)]));
    }
    return "value '" + v.getName() + "' gets " + dims + " extreme dims";
  }

  private String corruptInitializerDims(Onnx.GraphProto.Builder g) {
    if (g.getInitializerCount() == 0) {
      return "none";
    }
    int i = rnd.nextInt(g.getInitializerCount());
    Onnx.TensorProto.Builder t = g.getInitializerBuilder(i);
    int choice = rnd.nextInt(3);
    if (choice == 0) {
      t.clearDims().addDims(1_000_000L).addDims(1_000_000L); // 10^12 elements declared
    } else if (choice == 1) {
      t.addDims(HUGE[rnd.nextInt(HUGE.length)]);
    } else {
      t.clearDims();
      for (int k = 0; k < 3; k++) {
        t.addDims(HUGE[rnd.nextInt(HUGE.length)]);
      }
    }
    return "initializer '" + t.getName() + "' dims " + t.getDimsList();
  }

  private String corruptInitializerType(Onnx.GraphProto.Builder g) {
    if (g.getInitializerCount() == 0) {
      return "none";
    }
    int i = rnd.nextInt(g.getInitializerCount());
    Onnx.TensorProto.Builder t = g.getInitializerBuilder(i);
    switch (rnd.nextInt(4)) {
      case 0:
        t.setDataType(rnd.nextInt(30) - 1);
        break;
      case 1:
        t.setRawData(t.getRawData().substring(0, t.getRawData().size() / 2));
        break;
      case 2:
        t.clearRawData().addFloatData(1f).addInt64Data(3).addDoubleData(2.0);
        break;
      default:
        t.addStringData(ByteString.copyFromUtf8("x")).setDataType(8);
        break;
    }
    return "initializer '" + t.getName() + "' type/payload corrupted";
  }

  private String corruptExternalData(Onnx.GraphProto.Builder g) {
    if (g.getInitializerCount() == 0) {
      return "none";
    }
    int i = rnd.nextInt(g.getInitializerCount());
    Onnx.TensorProto.Builder t = g.getInitializerBuilder(i);
    t.setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL).clearRawData();
    String location =
        pick(
            "weights.bin",
            "/etc/passwd",
            "../outside.bin",
            "sub/../../x",
            "C:\\w.bin",
            "\\\\server\\share",
            "",
            "a\u0000b",
            "link/../weights.bin",
            "escape-link/w.bin",
            ".");
    List<Onnx.StringStringEntryProto> entries = new ArrayList<>(t.getExternalDataList());
    entries.add(entry("location", location));
    if (rnd.nextBoolean()) {
      entries.add(
          entry(
              "offset",
              pick("-1", "0", "9223372036854775807", "12x", "4096", "99999999999999999999")));
    }
    if (rnd.nextBoolean()) {
      entries.add(entry("length", pick("-5", "0", "16", "9223372036854775807", "", "1e3")));
    }
    if (rnd.nextBoolean()) {
      entries.remove(rnd.nextInt(entries.size()));
    }
    t.clearExternalData().addAllExternalData(entries);
    return "initializer '"
        + t.getName()
        + "' external data "
        + entries.size()
        + " entries, location '"
        + location
        + "'";
  }

  private String corruptAttribute(Onnx.GraphProto.Builder g) {
    if (g.getNodeCount() == 0) {
      return "none";
    }
    int i = rnd.nextInt(g.getNodeCount());
    Onnx.NodeProto.Builder n = g.getNode(i).toBuilder();
    Onnx.AttributeProto.Builder a =
        Onnx.AttributeProto.newBuilder()
            .setName(
                pick(
                    "to",
                    "axis",
                    "perm",
                    "axes",
                    "value",
                    "then_branch",
                    "body",
                    "shape",
                    "",
                    "epsilon"));
    switch (rnd.nextInt(5)) {
      case 0:
        a.setType(Onnx.AttributeProto.AttributeType.INT).setI(HUGE[rnd.nextInt(HUGE.length)]);
        break;
      case 1:
        a.setType(Onnx.AttributeProto.AttributeType.INTS)
            .addInts(HUGE[rnd.nextInt(HUGE.length)])
            .addInts(-3);
        break;
      case 2:
        a.setType(Onnx.AttributeProto.AttributeType.TENSOR)
            .setT(
                Onnx.TensorProto.newBuilder()
                    .setDataType(rnd.nextInt(20))
                    .addDims(HUGE[rnd.nextInt(HUGE.length)]));
        break;
      case 3:
        a.setType(Onnx.AttributeProto.AttributeType.GRAPH)
            .setG(
                Onnx.GraphProto.newBuilder()
                    .addNode(
                        Onnx.NodeProto.newBuilder()
                            .setOpType("Relu")
                            .addInput(pickValue(g))
                            .addOutput(pickValue(g))));
        break;
      default:
        a.setType(
            Onnx.AttributeProto.AttributeType.forNumber(rnd.nextInt(15)) == null
                ? Onnx.AttributeProto.AttributeType.UNDEFINED
                : Onnx.AttributeProto.AttributeType.forNumber(rnd.nextInt(15)));
        break;
    }
    if (rnd.nextBoolean() && n.getAttributeCount() > 0) {
      n.setAttribute(rnd.nextInt(n.getAttributeCount()), a);
    } else {
      n.addAttribute(a);
    }
    g.setNode(i, n);
    return "node " + i + " attribute '" + a.getName() + "' " + a.getType();
  }

  private String pickName(Onnx.GraphProto.Builder g) {
    if (g.getNodeCount() > 0 && rnd.nextInt(3) == 0) {
      return g.getNode(rnd.nextInt(g.getNodeCount())).getName(); // a duplicate
    }
    return pick(
        "",
        "x",
        "y",
        "a/b",
        "..",
        "\u0000",
        "n\u00e9ud",
        "Relu_0",
        "w",
        "x".repeat(1 + rnd.nextInt(300)));
  }

  private String pickValue(Onnx.GraphProto.Builder g) {
    List<String> names = new ArrayList<>();
    for (Onnx.NodeProto n : g.getNodeList()) {
      names.addAll(n.getInputList());
      names.addAll(n.getOutputList());
    }
    for (Onnx.TensorProto t : g.getInitializerList()) {
      names.add(t.getName());
    }
    if (names.isEmpty() || rnd.nextInt(4) == 0) {
      return pick("", "dangling", "x", "y", "w");
    }
    return names.get(rnd.nextInt(names.size()));
  }

  private String pick(String... options) {
    return options[rnd.nextInt(options.length)];
  }

  private static Onnx.StringStringEntryProto entry(String k, String v) {
    return Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }
}
