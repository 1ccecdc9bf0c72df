/**
 * Blocks of a network found from node names ({@link dev.halfbisect.report.blocks.BlockDetector})
 * and the blocks x checkpoints table derived from layerwise rows ({@link
 * dev.halfbisect.report.blocks.BlockTable}).
 */
package dev.halfbisect.report.blocks;
