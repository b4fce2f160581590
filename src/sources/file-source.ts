// Follows a log file like `tail -F`, by inode and byte offset, so positions can be stored exactly.
// fs.watch on the directory makes it react at once; a 1 s stat is the safety net for missed events.
// (The `tail` package hides byte offsets and inode changes, which durable positions need.)
import { createHash } from 'node:crypto';
import { readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { open, stat, readdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'winston';
import type { LogLine } from '../core/types.js';
import type { Position } from '../grants/store.js';
import type { BatchHandler, Source } from './source.js';

/** Bytes read at once when following live writes; a batch (one transaction) is at most this. */
const CHUNK = 256 * 1024;
/** While catching up on a backlog: bigger batches, fewer transactions (each commit costs ~1 ms); 4 MiB is no faster and costs ~50 MB more peak RSS. */
const BACKLOG_CHUNK = 1024 * 1024;

export interface FileSourceOptions {
  /** Stored position from the last run, if any. */
  position: Position | null;
  logger: Logger;
  pollMs?: number;
  /** How long a rotated-away file is still read for late writes. */
  lingerMs?: number;
  retryMs?: number;
  now?: () => number;
}

interface Handle {
  fh: FileHandle;
  dev: string;
  ino: string;
  offset: number;
  line: number;
  fingerprint: string | null;
  /** Set when rotated away: read until this time, then closed. */
  retiredUntil?: number;
  /** A file rotated away while popgate was down: its position is stored until it is finished. */
  resumed?: boolean;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class FileSource implements Source {
  readonly name: string;
  private readonly opts: Required<Omit<FileSourceOptions, 'position'>> & { position: Position | null };
  private current: Handle | null = null;
  private retired: Handle[] = [];
  private handler: BatchHandler | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private live = false;
  private warnedMissing = false;
  private checkFingerprint = false;
  private buf: Buffer | null = null;

  constructor(path: string, options: FileSourceOptions) {
    this.name = path;
    this.opts = { pollMs: 1000, lingerMs: 30_000, retryMs: 2000, now: Date.now, ...options };
  }

  async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    await this.resume();
    this.watchDir();
    this.timer = setInterval(() => {
      this.checkFingerprint = true;
      this.kick();
    }, this.opts.pollMs);
    this.timer.unref?.();
    this.kick();
    await this.idle();
  }

  /** Resolves when the pump has nothing in hand (used by tests and `stop`). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  reopen(): void {
    this.watcher?.close();
    this.watcher = null;
    this.watchDir();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    await this.idle();
    for (const h of [this.current, ...this.retired]) await h?.fh.close().catch(() => {});
    this.current = null;
    this.retired = [];
  }

  private watchDir(): void {
    if (this.watcher || this.stopped) return;
    try {
      const base = basename(this.name);
      this.watcher = watch(dirname(this.name), { persistent: false }, (_ev, file) => {
        if (!file || file === base) this.kick();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // Directory missing: the poll timer retries.
      this.watcher = null;
    }
  }

  /** Schedules a pump; pumps never overlap. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pump().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async openHandle(path: string): Promise<Handle | null> {
    try {
      const fh = await open(path, 'r');
      const st = await fh.stat({ bigint: true });
      return { fh, dev: String(st.dev), ino: String(st.ino), offset: 0, line: 0, fingerprint: null };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** First start: resume the stored position, also in a file rotated away while popgate was down. */
  private async resume(): Promise<void> {
    const pos = this.opts.position;
    const h = await this.openHandle(this.name).catch((err) => {
      this.opts.logger.error(`${this.name}: cannot open (${(err as Error).message}); hint: check permissions`);
      return null;
    });
    if (!h) {
      this.opts.logger.warn(`${this.name}: not there yet; popgate starts reading when it appears`);
      this.warnedMissing = true;
    }
    if (!pos) {
      this.current = h;
      return;
    }
    if (h && h.dev === pos.dev && h.ino === pos.ino) {
      const size = Number((await h.fh.stat()).size);
      const fp = await fingerprintOf(h.fh);
      if (size >= pos.offset && (pos.fingerprint === null || fp === pos.fingerprint)) {
        Object.assign(h, { offset: pos.offset, line: pos.line, fingerprint: pos.fingerprint });
      } else {
        this.opts.logger.info(`${this.name}: truncated or rewritten since the last run; reading it from the start`);
      }
      this.current = h;
      return;
    }
    // The stored file was rotated away: finish it first, then read the new one from the start.
    const old = await this.findRotated(pos);
    if (old) {
      Object.assign(old.handle, { offset: pos.offset, line: pos.line, fingerprint: pos.fingerprint, retiredUntil: 0, resumed: true });
      this.retired.push(old.handle);
      this.opts.logger.info(`${this.name}: rotated while popgate was down; finishing ${old.path} first`);
    }
    this.current = h;
  }

  private async findRotated(pos: Position): Promise<{ handle: Handle; path: string } | null> {
    const dir = dirname(this.name);
    const base = basename(this.name);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return null;
    }
    for (const n of names) {
      if (n === base || !n.startsWith(base) || n.endsWith('.gz') || n.endsWith('.xz') || n.endsWith('.bz2')) continue;
      const path = join(dir, n);
      const st = await stat(path, { bigint: true }).catch(() => null);
      if (!st || String(st.dev) !== pos.dev || String(st.ino) !== pos.ino) continue;
      const h = await this.openHandle(path);
      if (h && (pos.fingerprint === null || (await fingerprintOf(h.fh)) === pos.fingerprint)) return { handle: h, path };
      await h?.fh.close();
    }
    return null;
  }

  private async pump(): Promise<void> {
    try {
      for (const r of [...this.retired]) {
        const done = this.opts.now() > (r.retiredUntil ?? 0);
        await this.drain(r, done);
        if (done) {
          this.retired = this.retired.filter((x) => x !== r);
          await r.fh.close().catch(() => {});
        }
      }
      await this.checkIdentity();
      if (this.current) await this.drain(this.current, false);
      this.live = true; // what follows the first pass was written while popgate ran
    } catch (err) {
      if (this.stopped) return;
      this.opts.logger.error(`${this.name}: ${(err as Error).message}; retrying in ${this.opts.retryMs} ms`);
      await new Promise((r) => setTimeout(r, this.opts.retryMs));
      this.again = true;
    }
  }

  /** Notices rotation (new inode), deletion and truncation (copytruncate). */
  private async checkIdentity(): Promise<void> {
    // Synchronous: a stat of a local file takes microseconds, a trip through libuv's thread pool
    // up to milliseconds on a busy machine, and this is on the way from a login line to its grant.
    const st = statOrNull(this.name);
    const cur = this.current;
    if (!st) return; // deleted or renamed away: keep reading the open handle until a new file appears
    if (cur && String(st.dev) === cur.dev && String(st.ino) === cur.ino) {
      const checkFp = this.checkFingerprint && cur.fingerprint !== null;
      this.checkFingerprint = false;
      if (Number(st.size) < cur.offset || (checkFp && (await fingerprintOf(cur.fh)) !== cur.fingerprint)) {
        this.opts.logger.info(`${this.name}: truncated; reading it from the start`);
        Object.assign(cur, { offset: 0, line: 0, fingerprint: null });
      }
      return;
    }
    const next = await this.openHandle(this.name);
    if (!next) return;
    if (cur) {
      await this.drain(cur, false);
      cur.retiredUntil = this.opts.now() + this.opts.lingerMs;
      this.retired.push(cur);
      this.opts.logger.info(`${this.name}: rotated; following the new file`);
    } else if (this.warnedMissing) {
      this.opts.logger.info(`${this.name}: appeared; following it`);
    }
    this.current = next;
  }

  /** Reads whole lines from the handle and hands them over; `final` also takes a last line with no newline. */
  private async drain(h: Handle, final: boolean): Promise<void> {
    const size = this.live ? CHUNK : BACKLOG_CHUNK;
    // One buffer per source, reused (its bytes are copied out by toString): a fresh one per wake-up
    // is garbage V8 collects late, ~30 MB of RSS under 2,000 lines/s.
    if (this.buf?.length !== size) this.buf = Buffer.allocUnsafe(size);
    const buf = this.buf;
    for (;;) {
      if (this.stopped) return;
      // Synchronous too (page cache, at most 1 MiB): the batch handler that follows blocks longer.
      const bytesRead = readSync(h.fh.fd, buf, 0, size, h.offset);
      if (bytesRead === 0) return;
      let end = buf.lastIndexOf(10, bytesRead - 1);
      let consumed: number;
      if (end < 0) {
        if (bytesRead < size && !final) return; // a line still being written
        end = bytesRead; // an overlong line, or the unterminated end of a rotated file
        consumed = bytesRead;
      } else {
        consumed = end + 1;
      }
      const text = buf.toString('utf8', 0, end);
      const parts = text.split('\n');
      const readAt = this.opts.now();
      const lines: LogLine[] = new Array(parts.length);
      for (let i = 0; i < parts.length; i++) {
        const t = parts[i]!;
        lines[i] = { text: t.endsWith('\r') ? t.slice(0, -1) : t, origin: this.name, lineNo: h.line + i + 1, readAt, live: this.live };
      }
      const fingerprint = h.fingerprint ?? (h.offset === 0 ? fingerprintFrom(buf, bytesRead) : null);
      const position: Position = { dev: h.dev, ino: h.ino, fingerprint, offset: h.offset + consumed, line: h.line + parts.length };
      await this.handler!(lines, h === this.current || h.resumed ? position : null);
      Object.assign(h, position);
      // A full read means more is waiting (a backlog): let timers and live answers run in between.
      if (bytesRead === size) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

const FP_BYTES = 4096;

/** Hash of the first line (at most 4 KiB of it) in a buffer that starts at offset 0; null while incomplete. */
function fingerprintFrom(buf: Buffer, length: number): string | null {
  const head = buf.subarray(0, Math.min(length, FP_BYTES));
  const nl = head.indexOf(10);
  if (nl < 0) return head.length === FP_BYTES ? sha1(head) : null;
  return sha1(head.subarray(0, nl));
}

async function fingerprintOf(fh: FileHandle): Promise<string | null> {
  const buf = Buffer.alloc(FP_BYTES);
  const { bytesRead } = await fh.read(buf, 0, FP_BYTES, 0);
  return fingerprintFrom(buf, bytesRead);
}
