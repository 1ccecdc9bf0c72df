package dev.halfbisect.bisect;

/** Thrown by a {@link Prober} that was {@linkplain Prober#cancel cancelled}, with the reason. */
public final class ProbesCancelledException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProbesCancelledException(String why) {
    super(why);
  }
}
