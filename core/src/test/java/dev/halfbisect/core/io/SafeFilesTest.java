package dev.halfbisect.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeFilesTest {
  @TempDir Path dir;

  @Test
  void symlinkAtTheTargetIsReplacedAsAnEntryAndItsTargetIsUntouched() throws IOException {
    Path precious = Files.writeString(dir.resolve("bashrc"), "precious");
    Path link = Files.createSymbolicLink(dir.resolve("report.json"), precious);
    SafeFiles.writeString(link, "{}");
    assertThat(Files.readString(precious)).isEqualTo("precious");
    assertThat(Files.isSymbolicLink(link)).isFalse();
    assertThat(Files.readString(link)).isEqualTo("{}");
  }

  @Test
  void directoryAndFifoTargetsAreRefusedAndLeftAsTheyAre() throws Exception {
    Path sub = Files.createDirectory(dir.resolve("plan.json"));
    assertThatThrownBy(() -> SafeFiles.writeString(sub, "x"))
        .isInstanceOf(UnsafeTargetException.class)
        .hasMessage(
            "refusing to write " + sub + ": it exists and is a directory, not a regular file");
    assertThat(Files.isDirectory(sub)).isTrue();

    Path fifo = dir.resolve("fifo");
    assumeTrue(mkfifo(fifo), "mkfifo not available");
    assertThatThrownBy(() -> SafeFiles.write(fifo, new byte[] {1}))
        .isInstanceOf(UnsafeTargetException.class)
        .hasMessageContaining("a device, FIFO or socket");
    assertThat(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.exists(fifo, LinkOption.NOFOLLOW_LINKS)).isTrue();
    assertThat(noTempFilesLeft()).isTrue();
  }

  @Test
  void aFailingWriterLeavesThePreviousFileAndNoTemporaryFile() throws IOException {
    Path f = Files.writeString(dir.resolve("report.json"), "good");
    assertThatThrownBy(
            () ->
                SafeFiles.write(
                    f,
                    out -> {
                      out.write("half".getBytes(StandardCharsets.UTF_8));
                      throw new IOException("disk full");
                    }))
        .hasMessage("disk full");
    assertThat(Files.readString(f)).isEqualTo("good");
    assertThat(noTempFilesLeft()).isTrue();
  }

  @Test
  void permissionsFollowTheUmaskLikeAPlainlyCreatedFile() throws IOException {
    assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"));
    Path plain = dir.resolve("plain");
    Files.newOutputStream(plain).close();
    Path safe = dir.resolve("safe.onnx");
    SafeFiles.write(safe, new byte[] {1, 2});
    Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
    assertThat(Files.getPosixFilePermissions(safe)).isEqualTo(expected);
    // And not the 0600 of Files.createTempFile, unless the umask itself says so.
    assertThat(expected).contains(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void inputsOfTheRunAreRefusedButALinkToThemIsNot() throws IOException {
    Path model = Files.writeString(dir.resolve("model.onnx"), "weights");
    assertThatThrownBy(() -> SafeFiles.checkNotInput(dir.resolve("./model.onnx"), List.of(model)))
        .isInstanceOf(UnsafeTargetException.class)
        .hasMessageContaining("it is an input of this run");
    Path hard = Files.createLink(dir.resolve("hard.onnx"), model);
    assertThatThrownBy(() -> SafeFiles.checkNotInput(hard, List.of(model)))
        .isInstanceOf(UnsafeTargetException.class);
    Path link = Files.createSymbolicLink(dir.resolve("link.onnx"), model);
    SafeFiles.checkNotInput(link, List.of(model));
    SafeFiles.checkNotInput(dir.resolve("new.onnx"), List.of(model));
  }

  @Test
  void appendRefusesASymlinkAndCreatesMissingFolders() throws IOException {
    Path target = Files.writeString(dir.resolve("target"), "x");
    Path link = Files.createSymbolicLink(dir.resolve("probes.jsonl"), target);
    assertThatThrownBy(() -> SafeFiles.openAppend(link))
        .isInstanceOf(UnsafeTargetException.class)
        .hasMessageContaining("symbolic link");
    try (var ch = SafeFiles.openAppend(dir.resolve("a/b/probes.jsonl"))) {
      assertThat(ch.size()).isZero();
    }
  }

  @Test
  void writableDirectoryCheckCreatesTheFolderAndRefusesAFile() throws IOException {
    SafeFiles.checkWritableDirectory(dir.resolve("out/deep"));
    assertThat(Files.isDirectory(dir.resolve("out/deep"))).isTrue();
    assertThat(noTempFilesLeft()).isTrue();
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertThatThrownBy(() -> SafeFiles.checkWritableDirectory(file))
        .isInstanceOf(UnsafeTargetException.class)
        .hasMessageContaining("it exists and is a file, not a folder");
  }

  private boolean noTempFilesLeft() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp"));
    }
  }

  static boolean mkfifo(Path p) {
    try {
      return new ProcessBuilder("mkfifo", p.toString()).start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
