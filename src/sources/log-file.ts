// One open log file as the follower sees it: identity (device, inode, first line), how far it
// has been read, and its line splitter. Plus the helpers that find a file by that identity
// among its rotated siblings (`mail.log.1`), after a rename or a copytruncate.
import { createHash } from 'node:crypto';
import { constants, readSync, statSync } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SourceError } from '../core/errors.js';
import { notRegular } from './file-kind.js';
import { LineSplitter, MAX_LINE_BYTES, type DropSink } from './line-splitter.js';

export interface LogFile {
  path: string;
  fh: FileHandle;
  dev: string;
  ino: string;
  /** Just after the last line handed over (or dropped): what a stored position says. */
  offset: number;
  line: number;
  /** Hash of the first line, stored with positions; null until that line is complete. */
  fingerprint: string | null;
  /** The first line itself (at most FP_BYTES): compared on every read to notice a truncation. */
  head: Buffer | null;
  /** Where the next read starts: `offset` plus the unfinished line the splitter holds. */
  readOffset: number;
  splitter: LineSplitter;
  /** Set when rotated away: read until this time, then closed. */
  retiredUntil?: number;
  /** Read as the continuation of the stored position (rotated or copied): hands positions. */
  resumed?: boolean;
  /** A copy made by copytruncate: complete, and an unfinished last line was cut by the copy. */
  copy?: boolean;
}

export const FP_BYTES = 4096;

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Opens a log file; null when it does not exist. Anything but a regular file is a SourceError,
 * found before the open: opening a FIFO would wait for a writer. O_NONBLOCK covers the race of
 * a FIFO put there in between (the fstat then refuses it).
 */
export async function openLog(path: string, onDrop?: DropSink): Promise<LogFile | null> {
  try {
    const bad = notRegular(path, await stat(path));
    if (bad) throw bad;
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await fh.stat({ bigint: true });
    const late = notRegular(path, st);
    if (late) {
      await fh.close();
      throw late;
    }
    const splitter = new LineSplitter(MAX_LINE_BYTES, 0, onDrop);
    return { path, fh, dev: String(st.dev), ino: String(st.ino), offset: 0, line: 0, fingerprint: null, head: null, readOffset: 0, splitter };
  } catch (err) {
    if (isMissing(err)) return null;
    if (err instanceof SourceError) throw err;
    throw new SourceError(path, `cannot open (${(err as Error).message})`, 'check the permissions of the file and its directory', err);
  }
}

/** Puts the file at a position: what comes next is read from there. */
export function seek(f: LogFile, offset: number, line: number, fingerprint: string | null, head: Buffer | null): void {
  Object.assign(f, { offset, line, fingerprint, head, readOffset: offset });
  f.splitter.reset(line);
}

/** The first line (at most FP_BYTES of it) in a buffer read from offset 0; null while unfinished. */
export function headOf(buf: Buffer, length: number): Buffer | null {
  const head = buf.subarray(0, Math.min(length, FP_BYTES));
  const nl = head.indexOf(10);
  if (nl < 0) return head.length === FP_BYTES ? head : null;
  return head.subarray(0, nl);
}

export function fingerprintOf(head: Buffer): string {
  return createHash('sha1').update(head).digest('hex');
}

/** The file's first line as it is now (synchronous: one pread of a few KiB, page cache). */
export function readHead(f: LogFile): Buffer | null {
  const buf = Buffer.allocUnsafe(FP_BYTES);
  const h = headOf(buf, readSync(f.fh.fd, buf, 0, FP_BYTES, 0));
  return h && Buffer.from(h);
}

/**
 * True when the file no longer starts with the line it started with: truncated (copytruncate,
 * `> mail.log`) and possibly written again. Reads only that line and the byte after it.
 */
export function headChanged(f: LogFile): boolean {
  if (!f.head) return false;
  const want = f.head.length + (f.head.length < FP_BYTES ? 1 : 0);
  const buf = Buffer.allocUnsafe(want);
  const n = readSync(f.fh.fd, buf, 0, want, 0);
  if (n < want) return true;
  return buf.compare(f.head, 0, f.head.length, 0, f.head.length) !== 0 || (want > f.head.length && buf[f.head.length] !== 10);
}

export function statOrNull(path: string) {
  try {
    return statSync(path, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/**
 * A sibling of `path` (`mail.log.1`, `mail.log-20240101`; compressed ones skipped) that `fits`
 * and starts with the line hashed as `fingerprint` (any first line when null), opened.
 */
export async function findSibling(path: string, fingerprint: string | null, fits: (st: { dev: bigint; ino: bigint; size: bigint }) => boolean, onDrop?: DropSink): Promise<LogFile | null> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  for (const n of names.sort()) {
    if (n === base || !n.startsWith(base) || /\.(gz|xz|bz2|zst)$/.test(n)) continue;
    const p = join(dir, n);
    const st = await stat(p, { bigint: true }).catch(() => null);
    if (!st?.isFile() || !fits(st)) continue;
    const f = await openLog(p, onDrop).catch(() => null);
    if (!f) continue;
    const head = readHead(f);
    if (fingerprint === null || (head && fingerprintOf(head) === fingerprint)) {
      f.head = head;
      return f;
    }
    await f.fh.close();
  }
  return null;
}

/** A copy of a head read from the shared read buffer, which the next read overwrites. */
export function copyOfHead(b: Buffer | null): Buffer | null {
  return b && Buffer.from(b);
}
