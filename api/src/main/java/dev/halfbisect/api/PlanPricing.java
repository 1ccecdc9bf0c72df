package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Timing;
import dev.halfbisect.core.backend.TimingRequest;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.report.model.PriceSection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Issue 20: the price of a found plan on the candidate backend: median latency of the all-FP32,
 * all-FP16 and plan engines on the first sample, and the share of the FP16 speed-up kept. When the
 * search pinned overflowing nodes and the clock measures real FP16 speed, the outputs-only plan
 * (searched without pinning) is timed too and the faster passing plan is preferred; emulation times
 * never choose a plan.
 */
final class PlanPricing {
  /** Warm-up and timed runs per priced engine: 3 + 10 keeps the price cheap beside the search. */
  static final TimingRequest TIMING = new TimingRequest(3, 10);

  /** The section and the plan the report should carry (the preferred one). */
  record Priced(PriceSection section, PrecisionSearch.Result chosen) {}

  private final ModelGraph graph;
  private final AnalysisSettings settings;
  private final Map<String, Tensor> sample;

  PlanPricing(ModelGraph graph, AnalysisSettings settings, Map<String, Tensor> sample) {
    this.graph = graph;
    this.settings = settings;
    this.sample = sample;
  }

  /**
   * @param found a passing plan
   * @param outputsOnly searches the plan without overflow pinning (called only when it can change
   *     the answer: nodes were pinned for overflow and the clock is a GPU clock)
   */
  Priced price(PrecisionSearch.Result found, Supplier<PrecisionSearch.Result> outputsOnly) {
    Backend b = Operations.resolve(settings.candidate(), "candidate");
    String fp16Mode = settings.candidate().mode();
    Latency latency = new Latency(graph);
    Timing fp32 = time(latency, b, b.referenceMode(), PrecisionPlan.allFp32());
    Timing fp16 = time(latency, b, fp16Mode, PrecisionPlan.allFp16());
    // an all-FP16 plan is the FP16 engine: no second build, and no noise between the two
    Timing plan =
        found.plan().equals(PrecisionPlan.allFp16())
            ? fp16
            : time(latency, b, fp16Mode, found.plan());
    boolean pinned = !found.overflowNodes().isEmpty();
    PrecisionSearch.Result chosen = found;
    double chosenMs = plan.medianMillis();
    List<PriceSection.PlanPrice> plans = new ArrayList<>();
    String note = null;
    if (pinned && fp16.clock().measuresFp16Speed()) {
      PrecisionSearch.Result alt = outputsOnly.get();
      if (alt.found() && !alt.plan().equals(found.plan())) {
        double altMs = time(latency, b, fp16Mode, alt.plan()).medianMillis();
        boolean altFaster = altMs < chosenMs;
        plans.add(new PriceSection.PlanPrice("overflow-pinned", size(found), chosenMs, !altFaster));
        plans.add(new PriceSection.PlanPrice("outputs-only", size(alt), altMs, altFaster));
        if (altFaster) {
          chosen = alt;
          chosenMs = altMs;
          note =
              "the outputs-only plan is faster and passes on the samples; the overflow-pinned plan"
                  + " also guards the overflowing nodes on other inputs";
        } else {
          note = "the overflow-pinned plan is at least as fast as the outputs-only plan";
        }
      }
    } else if (pinned) {
      note = "emulation times do not choose between the overflow-pinned and the outputs-only plan";
    }
    if (plans.isEmpty()) {
      plans.add(new PriceSection.PlanPrice("plan", size(found), chosenMs, true));
    }
    PriceSection section =
        new PriceSection(
            plan.clock().description(),
            plan.clock().measuresFp16Speed(),
            Batching.batchOf(sample),
            fp32.medianMillis(),
            fp16.medianMillis(),
            chosenMs,
            plan.clock().measuresFp16Speed()
                ? PriceSection.keptShare(fp32.medianMillis(), fp16.medianMillis(), chosenMs)
                : null,
            ImmutableList.copyOf(plans),
            note);
    return new Priced(section, chosen);
  }

  private Timing time(Latency latency, Backend b, String mode, PrecisionPlan plan) {
    return latency.measure(b, mode, plan, sample, TIMING).timing();
  }

  private static int size(PrecisionSearch.Result r) {
    return r.plan().fp32Nodes().size();
  }
}
