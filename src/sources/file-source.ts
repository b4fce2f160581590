// Follows a log file like `tail -F`, by inode and byte offset, so positions can be stored exactly.
// fs.watch on the directory makes it react at once; a 1 s stat is the safety net for missed events.
// Rotation by rename and by copytruncate both continue where reading stopped (log-file.ts).
import { readSync, type FSWatcher } from 'node:fs';
import type { Logger } from 'winston';
import type { LogLine } from '../core/types.js';
import type { Position } from '../grants/store.js';
import { watchDirOf } from './dir-watch.js';
import { dropWarning } from './drop-warning.js';
import { notRegular } from './file-kind.js';
import type { DropSink } from './line-splitter.js';
import { copyOfHead, fingerprintOf, findSibling, headChanged, headOf, openLog, readHead, seek, statOrNull, type LogFile } from './log-file.js';
import { resumeAt } from './resume.js';
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

export class FileSource implements Source {
  readonly name: string;
  private readonly opts: Required<Omit<FileSourceOptions, 'position'>> & { position: Position | null };
  private current: LogFile | null = null;
  private retired: LogFile[] = [];
  private handler: BatchHandler | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private live = false;
  private warnedMissing = false;
  /** Identity of a non-regular file found at the path, warned about once. */
  private refused: string | null = null;
  private buf: Buffer | null = null;
  private readonly onDrop: DropSink;

  constructor(path: string, options: FileSourceOptions) {
    this.name = path;
    this.opts = { pollMs: 1000, lingerMs: 30_000, retryMs: 2000, now: Date.now, ...options };
    this.onDrop = dropWarning(path, this.opts.logger, this.opts.now);
  }

  /** Rejects at once (SourceError) when the path is there and is not a regular file. */
  async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    await this.resume();
    this.watchDir();
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
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
    for (const f of [this.current, ...this.retired]) await f?.fh.close().catch(() => {});
    this.current = null;
    this.retired = [];
  }

  private watchDir(): void {
    if (this.watcher || this.stopped) return;
    this.watcher = watchDirOf(
      this.name,
      () => this.kick(),
      () => (this.watcher = null),
    );
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

  /** First start: resume the stored position, also in a file rotated or copied away while popgate was down. */
  private async resume(): Promise<void> {
    const pos = this.opts.position;
    this.current = await openLog(this.name, this.onDrop);
    if (!this.current) {
      this.opts.logger.warn(`${this.name}: not there yet; popgate starts reading when it appears`);
      this.warnedMissing = true;
    }
    if (!pos) return;
    const r = await resumeAt(this.name, this.current, pos, this.onDrop);
    if (r.restarted) this.opts.logger.info(`${this.name}: truncated or rewritten since the last run; reading it from the start`);
    if (r.sibling && r.first) {
      this.retired.push(r.first);
      this.opts.logger.info(`${this.name}: ${r.sibling.copied ? 'copied and truncated' : 'rotated'} while popgate was down; finishing ${r.sibling.path} first`);
    }
  }

  private async pump(): Promise<void> {
    try {
      await this.drainRetired();
      // A copy found at a truncation is read before what is written anew.
      if (await this.checkIdentity()) await this.drainRetired();
      if (this.current) await this.drain(this.current, false);
      this.live = true; // what follows the first pass was written while popgate ran
    } catch (err) {
      if (this.stopped) return;
      this.opts.logger.error(`${this.name}: ${(err as Error).message}; retrying in ${this.opts.retryMs} ms`);
      await new Promise((r) => setTimeout(r, this.opts.retryMs));
      this.again = true;
    }
  }

  /** Files rotated away: read what was added, close them once their time is up. */
  private async drainRetired(): Promise<void> {
    for (const r of [...this.retired]) {
      const done = this.opts.now() > (r.retiredUntil ?? 0);
      await this.drain(r, done && !r.copy);
      if (done) {
        this.retired = this.retired.filter((x) => x !== r);
        await r.fh.close().catch(() => {});
      }
    }
  }

  /** Notices rotation, deletion, truncation and a non-regular file put in place; true when a copy is to be read first. */
  private async checkIdentity(): Promise<boolean> {
    // Synchronous: a stat of a local file takes microseconds, a trip through libuv's thread pool
    // up to milliseconds on a busy machine, and this is on the way from a login line to its grant.
    const st = statOrNull(this.name);
    const cur = this.current;
    if (!st) return false; // deleted or renamed away: keep reading the open file until a new one appears
    if (cur && String(st.dev) === cur.dev && String(st.ino) === cur.ino) {
      return Number(st.size) < cur.readOffset || headChanged(cur) ? this.truncated(cur) : false;
    }
    const bad = notRegular(this.name, st);
    if (bad) {
      const id = `${st.dev}:${st.ino}`;
      if (this.refused !== id) this.opts.logger.error(`${bad.message}${cur ? ' (still reading the file it replaced)' : ''}`);
      this.refused = id;
      return false;
    }
    const next = await openLog(this.name, this.onDrop);
    if (!next) return false;
    if (cur) {
      await this.drain(cur, false);
      cur.retiredUntil = this.opts.now() + this.opts.lingerMs;
      this.retired.push(cur);
      this.opts.logger.info(`${this.name}: rotated; following the new file`);
    } else if (this.warnedMissing) {
      this.opts.logger.info(`${this.name}: appeared; following it`);
    }
    this.current = next;
    return false;
  }

  /**
   * Truncated in place. With copytruncate the copy (same first line, at least as long as what was
   * read) holds the lines written since the last read: it is read from there, as after a rename,
   * and its position is stored until the new content begins. Lines the server writes between
   * logrotate's copy and its truncate are in neither file: no reader can have them.
   */
  private async truncated(cur: LogFile): Promise<boolean> {
    const copy = cur.fingerprint === null ? null : await findSibling(this.name, cur.fingerprint, (st) => String(st.ino) !== cur.ino && Number(st.size) >= cur.offset, this.onDrop);
    if (copy) {
      this.opts.logger.info(`${this.name}: copied to ${copy.path} and truncated; reading the rest of the copy first`);
      seek(copy, cur.offset, cur.line, cur.fingerprint, copy.head);
      Object.assign(copy, { retiredUntil: 0, resumed: true, copy: true });
      this.retired.push(copy);
    } else {
      this.opts.logger.info(`${this.name}: truncated; reading it from the start`);
    }
    seek(cur, 0, 0, null, null);
    return copy !== null;
  }

  /** Reads whole lines from the file and hands them over; `final` also takes a last line with no newline. */
  private async drain(f: LogFile, final: boolean): Promise<void> {
    const size = this.live ? CHUNK : BACKLOG_CHUNK;
    // One buffer per source, reused (the splitter copies out what it keeps): a fresh one per
    // wake-up is garbage V8 collects late, ~30 MB of RSS under 2,000 lines/s.
    if (this.buf?.length !== size) this.buf = Buffer.allocUnsafe(size);
    const buf = this.buf;
    for (;;) {
      if (this.stopped) return;
      // Synchronous too (page cache, at most 1 MiB): the batch handler that follows blocks longer.
      const bytesRead = readSync(f.fh.fd, buf, 0, size, f.readOffset);
      // Truncated since the identity check: these bytes may be new ones at a stale offset. The next pump sorts it out.
      if (f === this.current && bytesRead > 0 && headChanged(f)) {
        this.again = true;
        return;
      }
      const lines: LogLine[] = [];
      const readAt = this.opts.now();
      const sink = (text: string, lineNo: number) => lines.push({ text, origin: this.name, lineNo, readAt, live: this.live });
      if (bytesRead > 0) f.splitter.push(buf, sink, 0, bytesRead);
      else if (final) f.splitter.finish(sink);
      if (f.head === null && f.readOffset === 0) f.head = copyOfHead(headOf(buf, bytesRead));
      f.readOffset += bytesRead;
      const offset = f.readOffset - f.splitter.pendingBytes;
      if (f.fingerprint === null && f.head === null && offset > 0) f.head = readHead(f);
      if (f.fingerprint === null && f.head) f.fingerprint = fingerprintOf(f.head);
      const position: Position = { dev: f.dev, ino: f.ino, fingerprint: f.fingerprint, offset, line: f.splitter.lineNo };
      if (lines.length) {
        try {
          await this.handler!(lines, f === this.current || f.resumed ? position : null);
        } catch (err) {
          seek(f, f.offset, f.line, f.fingerprint, f.head); // read the same batch again
          throw err;
        }
      }
      Object.assign(f, { offset, line: position.line });
      if (bytesRead === 0) return;
      // A full read means more is waiting (a backlog): let timers and live answers run in between.
      if (bytesRead === size) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
