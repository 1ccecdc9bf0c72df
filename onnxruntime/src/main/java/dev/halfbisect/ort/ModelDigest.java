package dev.halfbisect.ort;

import com.google.common.hash.Hashing;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Content digest of serialized models, the identity used by the session cache. Arrays have identity
 * equality, so the memo below remembers each in-memory byte array's digest without hashing it
 * again, and forgets it once the array is garbage.
 */
final class ModelDigest {
  private final Map<byte[], String> memo = new WeakHashMap<>();

  synchronized String of(byte[] bytes) {
    return memo.computeIfAbsent(bytes, b -> Hashing.sha256().hashBytes(b).toString());
  }
}
