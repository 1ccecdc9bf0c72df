package dev.halfbisect.examples;

import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.onnx.OnnxModel;
import java.util.List;

/**
 * One reproduced FP16 investigation: a model of the family the original authors debugged (built in
 * Java with seeded weights, or a real model), the inputs it runs on, and a run that finds with
 * halfbisect what they had to find by hand.
 */
public interface Example {
  /** Short name used by {@code halfbisect demo --example NAME}, e.g. {@code timesformer}. */
  String name();

  /** One sentence: the model and the FP16 problem it shows. */
  String description();

  /** The model; the same bytes on every call (seeded weights). */
  OnnxModel buildModel();

  /** Input specs the example runs with, e.g. {@code video:8x3x32x32:float32:-1..1}. */
  List<InputSpec> inputs();

  /**
   * Runs the investigation, printing to {@link ExampleOptions#out()}, and returns what it found.
   */
  ExampleOutcome run(ExampleOptions options);
}
