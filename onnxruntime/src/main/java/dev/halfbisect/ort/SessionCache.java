package dev.halfbisect.ort;

import com.google.common.base.Preconditions;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded least-recently-used cache of built sessions. The cache holds one reference on each
 * {@link SharedOrtSession}; it releases that reference on eviction, and the native session closes
 * once every view handed out on it is closed too.
 */
final class SessionCache {
  private final int capacity;
  private final LinkedHashMap<SessionKey, SharedOrtSession> entries =
      new LinkedHashMap<>(16, 0.75f, true);

  SessionCache(int capacity) {
    Preconditions.checkArgument(capacity >= 0, "cache capacity must be >= 0, got %s", capacity);
    this.capacity = capacity;
  }

  /** The cached session with a new reference retained for the caller, or null. */
  synchronized SharedOrtSession acquire(SessionKey key) {
    SharedOrtSession s = entries.get(key);
    if (s == null) {
      return null;
    }
    s.retain();
    return s;
  }

  /**
   * Offers a session the caller holds a reference on; the cache retains its own reference, evicting
   * the least recently used entries beyond capacity. When an equal key was cached meanwhile (two
   * threads built at once), the new session is simply not cached.
   */
  synchronized void offer(SessionKey key, SharedOrtSession session) {
    if (capacity == 0 || entries.containsKey(key)) {
      return;
    }
    session.retain();
    entries.put(key, session);
    Iterator<Map.Entry<SessionKey, SharedOrtSession>> it = entries.entrySet().iterator();
    while (entries.size() > capacity && it.hasNext()) {
      SharedOrtSession evicted = it.next().getValue();
      it.remove();
      evicted.release();
    }
  }

  synchronized int size() {
    return entries.size();
  }

  /** Releases the cache's references; views still open keep their sessions alive. */
  synchronized void clear() {
    entries.values().forEach(SharedOrtSession::release);
    entries.clear();
  }
}
