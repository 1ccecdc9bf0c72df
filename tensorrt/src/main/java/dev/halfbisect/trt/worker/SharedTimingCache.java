package dev.halfbisect.trt.worker;

import dev.halfbisect.trt.engine.TimingCacheFile;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;

/**
 * The one timing cache every build of the worker shares, loaded from its file and written back
 * (merged with what other workers wrote meanwhile) after each build.
 */
final class SharedTimingCache {
  private final IBuilderConfig owner; // the config the cache was created from
  private final ITimingCache cache;
  private final TimingCacheFile file;

  private SharedTimingCache(IBuilderConfig owner, ITimingCache cache, TimingCacheFile file) {
    this.owner = owner;
    this.cache = cache;
    this.file = file;
  }

  /** The cache of {@code file}, or an empty one when there is none or it is unreadable. */
  static SharedTimingCache load(IBuilder builder, TimingCacheFile file) {
    IBuilderConfig owner = builder.createBuilderConfig();
    byte[] bytes = read(file);
    ITimingCache cache;
    if (bytes.length > 0) {
      cache = owner.createTimingCache(new BytePointer(bytes), bytes.length);
      WorkerLog.info("loaded timing cache " + file.path() + " (" + bytes.length + " bytes)");
    } else {
      cache = owner.createTimingCache(null, 0);
    }
    if (cache == null || cache.isNull()) {
      WorkerLog.warn("timing cache " + file.path() + " is unreadable; starting an empty one");
      cache = owner.createTimingCache(null, 0);
    }
    return new SharedTimingCache(owner, cache, file);
  }

  ITimingCache cache() {
    return cache;
  }

  Path path() {
    return file.path();
  }

  /** Merges the on-disk cache (other workers may have added to it) into ours, then writes ours. */
  void save() {
    try {
      byte[] disk = read(file);
      if (disk.length > 0) {
        ITimingCache other = owner.createTimingCache(new BytePointer(disk), disk.length);
        if (other != null && !other.isNull()) {
          cache.combine(other, true);
        }
      }
      IHostMemory mem = cache.serialize();
      byte[] bytes = new byte[(int) mem.size()];
      new BytePointer(mem.data()).capacity(mem.size()).get(bytes);
      file.write(bytes);
    } catch (IOException | RuntimeException e) {
      WorkerLog.warn("could not save timing cache " + file.path() + ": " + e);
    }
  }

  private static byte[] read(TimingCacheFile file) {
    try {
      return file.read().orElse(new byte[0]);
    } catch (IOException e) {
      WorkerLog.warn("could not read timing cache " + file.path() + ": " + e);
      return new byte[0];
    }
  }
}
