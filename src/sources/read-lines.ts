// Reads a whole file or stream as batches of numbered lines, through the one line splitter, in
// large chunks: the fast path for `popgate parse` and for standard input. Memory stays bounded
// whatever the input (a 600 MB line is counted and dropped, never held).
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { SourceError } from '../core/errors.js';
import type { LogLine } from '../core/types.js';
import { notRegular } from './file-kind.js';
import { LineSplitter, MAX_LINE_BYTES, type DropSink } from './line-splitter.js';

export interface ReadLinesOptions {
  /** The lines' origin (a path, `-`); default: the path read, or `-` for a stream. */
  origin?: string;
  /** Read as written (standard input followed live) rather than a whole file; default false. */
  live?: boolean;
  /** The clock stamped on each batch as its readAt; default Date.now. */
  now?: () => number;
  maxLineBytes?: number;
  /** Read size for a path (a stream brings its own chunks). */
  chunkBytes?: number;
  /** Each overlong line dropped, once its end is seen. */
  onDrop?: DropSink;
}

/** Read size for whole files: fewer, larger batches (each one costs a transaction in the daemon). */
export const READ_CHUNK = 1024 * 1024;

/**
 * Yields the lines of `input` (a path, or a stream such as standard input), one batch per chunk
 * read, numbered from 1 (dropped lines counted, so numbers match the file's); the last line
 * counts even without its newline. A path that is a directory, device or socket is refused
 * (SourceError) before anything is read; a FIFO is read like a stream.
 */
export async function* readLines(input: Readable | string, options: ReadLinesOptions = {}): AsyncGenerator<LogLine[]> {
  const splitter = new LineSplitter(options.maxLineBytes ?? MAX_LINE_BYTES, 0, options.onDrop);
  const stream = typeof input === 'string' ? await openRegular(input, options.chunkBytes ?? READ_CHUNK) : input;
  const origin = options.origin ?? (typeof input === 'string' ? input : '-');
  const live = options.live ?? false;
  const now = options.now ?? Date.now;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const batch: LogLine[] = [];
      const readAt = now();
      splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, (text, lineNo) => batch.push({ text, origin, lineNo, readAt, live }));
      if (batch.length) yield batch;
    }
    const last: LogLine[] = [];
    const readAt = now();
    splitter.finish((text, lineNo) => last.push({ text, origin, lineNo, readAt, live }));
    if (last.length) yield last;
  } finally {
    // Only a stream opened here is ours to close; a caller's stream (stdin) stays theirs.
    if (typeof input === 'string') stream.destroy();
  }
}

async function openRegular(path: string, chunkBytes: number): Promise<Readable> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new SourceError(path, `cannot open (${(err as Error).message})`, 'check the path and its permissions', err);
  }
  const st = await fh.stat();
  const bad = st.isFIFO() ? null : notRegular(path, st);
  if (bad) {
    await fh.close();
    throw bad;
  }
  return fh.createReadStream({ highWaterMark: chunkBytes });
}
