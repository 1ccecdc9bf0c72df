package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSortedMap;
import java.util.List;
import java.util.Map;
import javax.annotation.CheckForNull;

/**
 * Result of {@code reduce}: the smallest subgraph that still fails.
 *
 * @param originalNodes nodes of the input model
 * @param reducedNodes nodes of the reduced model
 * @param inputs graph inputs of the reduced model
 * @param outputs graph outputs of the reduced model
 * @param files files written, by role (e.g. {@code reduced -> out/reduced.onnx}), sorted by role
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"originalNodes", "reducedNodes", "inputs", "outputs", "files"})
public record ReduceSection(
    int originalNodes,
    int reducedNodes,
    List<String> inputs,
    List<String> outputs,
    @CheckForNull Map<String, String> files) {
  public ReduceSection {
    inputs = ImmutableList.copyOf(inputs);
    outputs = ImmutableList.copyOf(outputs);
    files = files == null ? null : ImmutableSortedMap.copyOf(files);
  }
}
