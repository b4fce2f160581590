// The logs the daemon follows: one Source each (a file, or standard input), each with its own
// parse state, every batch handed to the pipeline. Started together, so one slow or bad log
// never holds back the others.
import type { Logger } from 'winston';
import type { Store } from '../grants/store.js';
import type { SourceState } from '../parse/engine.js';
import { FileSource } from '../sources/file-source.js';
import { JournalSource } from '../sources/journal-source.js';
import { isJournal } from '../sources/journal-spec.js';
import type { Source } from '../sources/source.js';
import { StreamSource } from '../sources/stdin-source.js';
import type { DaemonStats } from '../stats/counters.js';
import type { Changes, Pipeline } from './pipeline.js';

interface Followed {
  source: Source;
  state: SourceState;
}

export class SourceSet {
  private readonly followed = new Map<string, Followed>();
  /** Told each log's start, batches and end of catch-up (status, progress, metrics). */
  stats: DaemonStats | null = null;

  constructor(
    private readonly store: Store,
    private readonly pipeline: Pipeline,
    private readonly changed: (c: Changes) => void,
    private readonly logger: Logger,
    /** How far back a journal with no stored cursor is read: the grace and a minute (older logins grant nothing). */
    private readonly backlogMs: () => number,
  ) {}

  get paths(): string[] {
    return [...this.followed.keys()];
  }

  /** Starts following each path; resolves once every one has caught up with its backlog. */
  async add(paths: readonly string[]): Promise<void> {
    await Promise.all(paths.filter((p) => !this.followed.has(p)).map((p) => this.start(p)));
  }

  private async start(path: string): Promise<void> {
    const position = path === '-' ? null : this.store.getPosition(path);
    const source: Source =
      path === '-'
        ? new StreamSource(process.stdin)
        : isJournal(path)
          ? new JournalSource(path, { position, logger: this.logger, backlogMs: this.backlogMs() })
          : new FileSource(path, { position, logger: this.logger });
    const entry: Followed = { source, state: { syslog: null } };
    this.followed.set(path, entry);
    this.stats?.started(path, position);
    try {
      await source.start(async (lines, pos) => {
        const c = await this.pipeline.handle(path, entry.state, lines, pos);
        this.stats?.batch(path, lines, pos);
        this.changed(c);
      });
      this.stats?.caughtUp(path);
    } catch (err) {
      this.stats?.stopped(path);
      this.followed.delete(path);
      await source.stop().catch(() => {});
      throw err;
    }
  }

  /** SIGHUP: follows exactly `paths`; the ones kept look at their path again (manual rotation). */
  async set(paths: readonly string[]): Promise<void> {
    for (const [path, { source }] of this.followed) {
      if (paths.includes(path)) source.reopen();
      else {
        await source.stop();
        this.followed.delete(path);
        this.stats?.stopped(path);
      }
    }
    await this.add(paths);
  }

  async stop(): Promise<void> {
    for (const { source } of this.followed.values()) await source.stop();
    this.followed.clear();
  }
}
