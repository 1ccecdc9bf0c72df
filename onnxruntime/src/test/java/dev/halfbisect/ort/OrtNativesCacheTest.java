package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The natives' cache folder is named by the ONNX Runtime build, not by where its jar lies: each
 * checkout, shaded jar and test class path extracted its own 28 MB copy when the name hashed the
 * resource URL.
 */
class OrtNativesCacheTest {
  @TempDir Path tmp;

  @AfterEach
  void clear() {
    System.clearProperty(OrtNatives.CACHE_DIR);
  }

  @Test
  void theFolderIsNamedByTheLibrariesNotByTheJarsPath() throws Exception {
    String platform = OrtNatives.platform();
    Assumptions.assumeTrue(platform != null, "no ONNX Runtime natives for this platform");
    String[] libs = {
      System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni")
    };
    URL jni = OrtNatives.class.getResource("/ai/onnxruntime/native/" + platform + "/" + libs[1]);
    URL core = OrtNatives.class.getResource("/ai/onnxruntime/native/" + platform + "/" + libs[0]);
    Hasher h = Hashing.sha256().newHasher();
    try (InputStream in = jni.openStream()) {
      h.putBytes(in.readAllBytes());
    }
    h.putLong(core.openConnection().getContentLengthLong());
    String expected = "ort-" + platform + "-" + h.hash().toString().substring(0, 12);

    System.setProperty(OrtNatives.CACHE_DIR, tmp.toString());
    Path dir = OrtNatives.extractToCache();
    assertThat(dir).isEqualTo(tmp.resolve(expected));
    assertThat(Files.size(dir.resolve(libs[0])))
        .isEqualTo(core.openConnection().getContentLengthLong());
    assertThat(OrtNatives.cacheId(platform, libs))
        .isEqualTo(expected.substring(expected.length() - 12));
  }
}
