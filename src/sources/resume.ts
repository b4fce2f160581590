// Where a file follower continues after a restart, from the stored position: in the same file;
// in the file it was rotated to (same inode, `mail.log.1`); in the copy logrotate's copytruncate
// made (same first line, at least as long), when the file itself was truncated; or from the start.
import type { Position } from '../grants/store.js';
import type { DropSink } from './line-splitter.js';
import { findSibling, fingerprintOf, readHead, seek, type LogFile } from './log-file.js';

export interface Resumed {
  /** The file to read first, positioned at the stored offset (the current file or a sibling). */
  first: LogFile | null;
  /** The sibling's path and how it came to be, for the log; null when `first` is the current file. */
  sibling: { path: string; copied: boolean } | null;
  /** The current file no longer holds the stored position: read it from the start. */
  restarted: boolean;
}

export async function resumeAt(path: string, current: LogFile | null, pos: Position, onDrop: DropSink): Promise<Resumed> {
  const same = current !== null && current.dev === pos.dev && current.ino === pos.ino;
  if (same) {
    const size = Number((await current.fh.stat()).size);
    const head = readHead(current);
    if (size >= pos.offset && (pos.fingerprint === null || (head && fingerprintOf(head)) === pos.fingerprint)) {
      seek(current, pos.offset, pos.line, pos.fingerprint, pos.fingerprint === null ? null : head);
      return { first: current, sibling: null, restarted: false };
    }
  }
  // Same inode elsewhere: rotated by rename. Same inode here but truncated: look for its copy.
  const sibling = await findSibling(
    path,
    pos.fingerprint,
    (st) => (same ? pos.fingerprint !== null && String(st.ino) !== pos.ino && Number(st.size) >= pos.offset : String(st.dev) === pos.dev && String(st.ino) === pos.ino),
    onDrop,
  );
  if (sibling) {
    seek(sibling, pos.offset, pos.line, pos.fingerprint, sibling.head);
    Object.assign(sibling, { retiredUntil: 0, resumed: true, copy: same });
  }
  return { first: sibling, sibling: sibling && { path: sibling.path, copied: same }, restarted: same };
}
