/**
 * Renderers of a document: console text, Markdown, one self-contained HTML page with inline SVG,
 * and {@link dev.halfbisect.report.render.ReportFormat} to pick one by file name. They read only
 * the document.
 */
package dev.halfbisect.report.render;
