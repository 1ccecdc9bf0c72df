package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.Ordering;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.util.List;
import java.util.Locale;

/** The precision plan found, in the same words as {@link PrecisionPlan#toJson()}. */
@JsonPropertyOrder({"defaultPrecision", "ioPolicy", "fp32Nodes"})
public record PlanView(String defaultPrecision, String ioPolicy, List<String> fp32Nodes) {
  public PlanView {
    fp32Nodes = ImmutableList.sortedCopyOf(Ordering.natural(), fp32Nodes);
  }

  public static PlanView of(PrecisionPlan plan) {
    return new PlanView(
        plan.defaultPrecision().name().toLowerCase(Locale.ROOT),
        plan.ioPolicy().name().toLowerCase(Locale.ROOT),
        plan.fp32Nodes().asList());
  }

  public PrecisionPlan toPlan() {
    return PrecisionPlan.of(
        PrecisionPlan.Precision.valueOf(defaultPrecision.toUpperCase(Locale.ROOT)),
        fp32Nodes,
        PrecisionPlan.IoPolicy.valueOf(ioPolicy.toUpperCase(Locale.ROOT)));
  }
}
