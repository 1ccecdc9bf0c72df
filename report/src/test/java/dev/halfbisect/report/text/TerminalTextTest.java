package dev.halfbisect.report.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.report.SampleReports;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.ConsoleRenderer;
import dev.halfbisect.report.render.MarkdownRenderer;
import org.junit.jupiter.api.Test;

class TerminalTextTest {
  private static final String CLEAR_AND_PASS =
      "/blk\u001b[2J\u001b[H\u001b[32mPASS\u001b[0m\r\n\u0007x";

  @Test
  void controlCharactersBecomeVisibleEscapes() {
    assertThat(TerminalText.escape(CLEAR_AND_PASS))
        .isEqualTo("/blk\\x1b[2J\\x1b[H\\x1b[32mPASS\\x1b[0m\\x0d\\x0a\\x07x");
    assertThat(TerminalText.escape("a\u009bb\u007fc")).isEqualTo("a\\x9bb\\x7fc");
    assertThat(TerminalText.escape("evil\u202eLIAF")).isEqualTo("evil\\u202eLIAF");
    assertThat(TerminalText.escape("/encoder/layer.0/Mul_1 µ ü"))
        .isEqualTo("/encoder/layer.0/Mul_1 µ ü");
    assertThat(TerminalText.escape(null)).isNull();
    assertThat(TerminalText.escapeKeepingNewlines("a\nb\u001bc\n")).isEqualTo("a\nb\\x1bc\n");
  }

  @Test
  void consoleAndMarkdownReportsCarryNoControlCharacterFromTheModel() {
    AnalysisReport r =
        SampleReports.diagnose().withWarnings(ImmutableList.of("node " + CLEAR_AND_PASS + " odd"));
    String console = ConsoleRenderer.render(r);
    String md = MarkdownRenderer.render(r);
    for (String out : new String[] {console, md}) {
      assertThat(out.replace("\n", "").chars().filter(c -> c < 0x20 || c == 0x7f)).isEmpty();
      assertThat(out).contains("\\x1b[2J").contains("FAIL");
    }
    assertThat(console)
        .contains("node /blk\\x1b[2J\\x1b[H\\x1b[32mPASS\\x1b[0m\\x0d\\x0a\\x07x odd");
  }
}
