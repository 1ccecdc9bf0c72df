/**
 * From the engine to the document: {@link dev.halfbisect.report.mapping.ReportMapper} turns bisect
 * results into {@link dev.halfbisect.report.model.AnalysisReport}s (the only place that knows the
 * engine's types), {@link dev.halfbisect.report.mapping.RootCauseAnalyzer} classifies the hotspots
 * of a document.
 */
package dev.halfbisect.report.mapping;
