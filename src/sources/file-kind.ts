// What a log path may be: a regular file. A directory fails every read, a FIFO blocks the
// opener until a writer comes, /dev/zero never ends: refuse them at once.
import type { BigIntStats, Stats } from 'node:fs';
import { SourceError } from '../core/errors.js';

export function kindOf(st: Stats | BigIntStats): string {
  if (st.isFile()) return 'regular file';
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'special file';
}

/** The error for a path that is not a regular file, or null when it is one. */
export function notRegular(path: string, st: Stats | BigIntStats): SourceError | null {
  if (st.isFile()) return null;
  const hint = st.isFIFO() ? 'to read a pipe, use --log - and pipe into popgate' : 'give the path of the log file the server writes (for the journal, use the journal source)';
  return new SourceError(path, `is a ${kindOf(st)}, not a regular file`, hint);
}
