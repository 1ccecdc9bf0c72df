package dev.halfbisect.examples;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Deterministic random arrays for hand-made parameters, seeded by the parameter's name. */
final class Seeded {
  private Seeded() {}

  static SplittableRandom random(String name) {
    long h = 1125899906842597L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h = 31 * h + b;
    }
    return new SplittableRandom(h);
  }

  /** Uniform values in {@code [-scale, scale)}. */
  static float[] uniform(String name, int n, float scale) {
    SplittableRandom r = random(name);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
    }
    return v;
  }

  /** Normal values, mean 0, standard deviation {@code std}. */
  static float[] normal(String name, int n, float std) {
    SplittableRandom r = random(name);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
      double u1 = 1 - r.nextDouble();
      double u2 = r.nextDouble();
      v[i] = (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
    return v;
  }
}
