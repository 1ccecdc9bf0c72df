/**
 * The analysis document: {@link dev.halfbisect.report.model.AnalysisReport} and its value types,
 * which are exactly the {@code halfbisect/1} JSON, and {@link
 * dev.halfbisect.report.model.ReportJson}, its byte-stable JSON form. Depends on no other report
 * package.
 */
package dev.halfbisect.report.model;
