// Follows the systemd journal natively (`log = journal:…`, see journal-spec.ts) through journalctl
// as a child process: first the backlog after the stored cursor (lines `live: false`, counted at
// each entry's own time), then `--follow` from the last cursor read (live). Each batch hands the
// daemon the cursor of its last entry, stored with the batch's grants: a restart or kill -9 loses
// and repeats nothing. A journalctl that exits or a batch the daemon fails to store restarts the
// whole thing from the last cursor stored.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'winston';
import type { LogLine } from '../core/types.js';
import type { Position } from '../grants/store.js';
import { dropWarning } from './drop-warning.js';
import { cursorIn, cursorOf, journalctlArgs, parseJournalSpec, positionOf, type JournalSpec } from './journal-spec.js';
import { LineSplitter, MAX_LINE_BYTES, type DropSink } from './line-splitter.js';
import type { BatchHandler, Source } from './source.js';

export interface JournalSourceOptions {
  position: Position | null;
  logger: Logger;
  /** journalctl to run (tests may point at another). */
  journalctl?: string;
  /** First wait before running journalctl again; doubles up to 30 s. */
  retryMs?: number;
  /** With no stored cursor, how far back to read the system journal (the grace: older logins grant nothing). */
  backlogMs?: number | null;
  now?: () => number;
}

/** A JSON line is complete only with its closing brace (a killed journalctl may leave half of one). */
const LONGEST = Math.max(MAX_LINE_BYTES, 16384);

export class JournalSource implements Source {
  readonly name: string;
  private readonly spec: JournalSpec;
  private readonly opts: Required<Omit<JournalSourceOptions, 'position'>>;
  private cursor: string | null;
  private entries: number;
  private handler: BatchHandler | null = null;
  private child: ChildProcess | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly onDrop: DropSink;

  /** Throws (a message) when the entry is not a valid `journal:` entry. */
  constructor(entry: string, options: JournalSourceOptions) {
    this.spec = parseJournalSpec(entry);
    this.name = entry;
    this.opts = { journalctl: 'journalctl', retryMs: 1000, now: Date.now, backlogMs: null, ...options };
    const stored = cursorOf(this.spec, options.position);
    this.cursor = stored?.cursor ?? null;
    this.entries = stored?.entries ?? 0;
    this.onDrop = dropWarning(entry, options.logger, this.opts.now);
  }

  /** Resolves once the backlog has been read (or the first attempt failed; it is retried). */
  async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    this.loop = this.run(caughtUp);
    await ready;
  }

  reopen(): void {}

  /** The running journalctl's pid, if any (status, tests). */
  get childPid(): number | null {
    return this.child?.pid ?? null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    this.wake?.();
    await this.loop;
  }

  /** Catch up, follow; on any failure wait and do it again from the last stored cursor. */
  private async run(caughtUp: () => void): Promise<void> {
    let wait = this.opts.retryMs;
    while (!this.stopped) {
      let failed: string;
      try {
        failed = (await this.read(false)) ?? '';
        caughtUp();
        if (!failed && !this.stopped) {
          wait = this.opts.retryMs;
          failed = (await this.read(true)) ?? 'journalctl --follow ended';
        }
      } catch (err) {
        failed = `the batch was not stored (${(err as Error).message})`;
      }
      caughtUp();
      if (this.stopped) return;
      this.opts.logger.error(`${this.name}: ${failed}; reading again after the last stored entry in ${wait} ms`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, wait).unref?.();
      });
      wait = Math.min(wait * 2, 30_000);
    }
  }

  /** Runs journalctl once; resolves with why it ended badly, or null (the backlog read to its end). */
  private async read(follow: boolean): Promise<string | null> {
    const since = this.opts.backlogMs === null ? null : Math.floor((this.opts.now() - this.opts.backlogMs) / 1000);
    const args = journalctlArgs(this.spec, this.cursor, follow, since);
    const child = spawn(this.opts.journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8');
    });
    const exited = new Promise<number | string>((resolve) => {
      child.on('error', (err) => resolve(err.message));
      child.on('close', (code, signal) => resolve(code ?? `killed by ${signal}`));
    });
    const splitter = new LineSplitter(LONGEST, 0, this.onDrop);
    try {
      for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
        if (this.stopped) break;
        await this.hand(splitter, chunk, follow);
      }
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw err;
    } finally {
      this.child = null;
    }
    const status = await exited;
    if (this.stopped) return null;
    if (status === 0 && !follow) return null;
    const said = stderr.trim().split('\n').pop();
    return `journalctl ${typeof status === 'number' ? `exited with status ${status}` : status}${said ? `: ${said}` : ''}`;
  }

  private async hand(splitter: LineSplitter, chunk: Buffer, live: boolean): Promise<void> {
    const lines: LogLine[] = [];
    let cursor: string | null = null;
    const readAt = this.opts.now();
    splitter.push(chunk, (text) => {
      const c = cursorIn(text);
      if (c === null) return; // not an entry (journalctl's own notes are on stderr)
      cursor = c;
      lines.push({ text, origin: this.name, lineNo: this.entries + lines.length + 1, readAt, live });
    });
    if (cursor === null) return;
    await this.handler!(lines, positionOf(this.spec, cursor, this.entries + lines.length));
    this.cursor = cursor;
    this.entries += lines.length;
  }
}
