package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * FP16 headroom (issue 15): the observed tensors whose reference magnitude reaches {@code share} of
 * 65504, listed also when everything passes.
 *
 * @param share the share of 65504 from which a tensor is at risk
 * @param atRisk those tensors, topological order
 */
@JsonPropertyOrder({"share", "atRisk"})
public record HeadroomView(double share, List<AtRisk> atRisk) {
  public HeadroomView {
    atRisk = ImmutableList.copyOf(atRisk);
  }

  /**
   * One tensor at risk of FP16 overflow.
   *
   * @param tensor ONNX tensor name
   * @param node producing node
   * @param opType its op type
   * @param refMaxAbs largest finite |reference| over the samples
   * @param shareOfMax refMaxAbs / 65504 (1 or more: the FP32 value itself is beyond FP16)
   * @param margin 65504 - refMaxAbs
   * @param sample the sample that came closest
   * @param index the extreme's element index in that sample
   * @param shape the tensor's shape there
   * @param verdict the tensor's own verdict ({@code "pass"} or {@code "fail"})
   */
  @JsonPropertyOrder({
    "tensor",
    "node",
    "opType",
    "refMaxAbs",
    "shareOfMax",
    "margin",
    "sample",
    "index",
    "shape",
    "verdict"
  })
  public record AtRisk(
      String tensor,
      String node,
      String opType,
      double refMaxAbs,
      double shareOfMax,
      double margin,
      int sample,
      List<Long> index,
      List<Long> shape,
      String verdict) {
    public AtRisk {
      index = ImmutableList.copyOf(index);
      shape = ImmutableList.copyOf(shape);
      Verdicts.check(verdict, "verdict of at-risk tensor " + tensor);
    }

    /** {@code [0, 0, 99]} as text, e.g. "sample 2 at [0, 0, 99] of [1, 128, 384]". */
    public String location() {
      return "sample " + sample + " at " + index + " of " + shape;
    }
  }
}
