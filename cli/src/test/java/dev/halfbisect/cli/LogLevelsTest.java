package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogLevelsTest {
  @Test
  void verboseMeansInfoOtherwiseErrorAndAGivenLevelWins() {
    String saved = System.getProperty(LogLevels.LEVEL);
    try {
      System.clearProperty(LogLevels.LEVEL);
      LogLevels.configure(true);
      assertThat(System.getProperty(LogLevels.LEVEL)).isEqualTo("info");
      System.clearProperty(LogLevels.LEVEL);
      LogLevels.configure(false);
      assertThat(System.getProperty(LogLevels.LEVEL)).isEqualTo("error");
      System.setProperty(LogLevels.LEVEL, "debug");
      LogLevels.configure(true);
      assertThat(System.getProperty(LogLevels.LEVEL)).isEqualTo("debug");
    } finally {
      if (saved == null) {
        System.clearProperty(LogLevels.LEVEL);
      } else {
        System.setProperty(LogLevels.LEVEL, saved);
      }
    }
  }
}
