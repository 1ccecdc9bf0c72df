package dev.halfbisect.trt.protocol;

import java.io.IOException;

/**
 * The byte stream between parent and worker does not follow the protocol (a stray write, a crash
 * mid-frame).
 */
public final class ProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  public ProtocolException(String message) {
    super(message);
  }
}
