package dev.halfbisect.examples;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.util.Arrays;
import java.util.List;

/**
 * What every example declares: its name, its one-sentence description and the input specs it runs
 * with. Subclasses add the model and the investigation.
 */
abstract class AbstractExample implements Example {
  /** The opset of the models the examples build. */
  static final int OPSET = 13;

  private final String name;
  private final String description;
  private final ImmutableList<InputSpec> inputs;

  /**
   * @param inputSpecs {@code NAME:SHAPE:DTYPE:FILL} each
   */
  AbstractExample(String name, String description, String... inputSpecs) {
    this.name = name;
    this.description = description;
    this.inputs =
        Arrays.stream(inputSpecs).map(InputSpec::parse).collect(ImmutableList.toImmutableList());
  }

  /**
   * A graph builder at {@link #OPSET} whose weights are seeded with {@code seed}, with this
   * example's inputs declared as their specs say (name, dtype, shape), so the two cannot disagree.
   */
  final GraphBuilder newGraph(String graphName, long seed) {
    GraphBuilder g = GraphBuilder.create(graphName, OPSET).seed(seed);
    inputs.forEach(s -> g.input(s.name(), s.dtype(), s.shape()));
    return g;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final String description() {
    return description;
  }

  @Override
  public final List<InputSpec> inputs() {
    return inputs;
  }
}
