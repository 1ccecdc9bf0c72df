/**
 * Numbers as report text ({@link dev.halfbisect.report.text.Fmt}), shared by the sentences the
 * mapping writes into a document and by the renderers.
 */
package dev.halfbisect.report.text;
