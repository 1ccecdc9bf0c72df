package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtLoggingLevel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code halfbisect.ort.logLevel}: a value the docs do not list is an error, not quietly fatal. */
class OrtLogLevelTest {
  @AfterEach
  void clear() {
    System.clearProperty(OrtNatives.LOG_LEVEL);
  }

  @Test
  void theDocumentedLevelsParseAndAnotherValueNamesTheProperty() {
    assertThat(OrtNatives.logLevel()).isEqualTo(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
    System.setProperty(OrtNatives.LOG_LEVEL, " Warning ");
    assertThat(OrtNatives.logLevel()).isEqualTo(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING);
    System.setProperty(OrtNatives.LOG_LEVEL, "loud");
    assertThatThrownBy(OrtNatives::logLevel)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "property halfbisect.ort.logLevel must be verbose, info, warning, error or fatal, got"
                + " 'loud'");
  }
}
