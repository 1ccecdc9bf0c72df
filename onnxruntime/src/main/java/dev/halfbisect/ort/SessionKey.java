package dev.halfbisect.ort;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.plan.PrecisionPlan;

/**
 * What makes two builds identical: the model's content digest and external-data folder, the mode,
 * the plan (only meaningful in fp16-emulated; fp32 keys carry {@link PrecisionPlan#allFp32()}), the
 * observed tensors in order, and the session settings.
 */
record SessionKey(
    String modelDigest,
    String baseDir,
    String mode,
    PrecisionPlan plan,
    ImmutableList<String> observed,
    OrtSettings settings) {}
