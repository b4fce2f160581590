// Publishes grants as a Postfix access map: sorted text → `postmap TYPE:` under a new name →
// rename over the live files, so smtpd sees the old map or the new one, never half of one.
// One build at a time; changes during a build make exactly one more build after it.
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'winston';
import { describe, PublishError, UnavailableError } from '../core/errors.js';
import { unsupportedMapType } from '../postfix/hints.js';
import { PostmapRunner } from '../postfix/postmap-runner.js';
import { builtSuffix, type MapSpec } from '../postfix/map-spec.js';
import { postmap, supportedMapTypes } from '../postfix/tools.js';
import { checkMapDir, cleanUp, exists, removedFrom, swapInReserve, writeNew } from './map-files.js';
import { MapContent, type MapSink } from './map-content.js';
import { publishedAddresses } from './published-map.js';
import type { Publisher } from './publisher.js';

export interface MapPublisherOptions {
  map: MapSpec;
  /** Writes the map's whole text (`IP<TAB>value` lines, sorted) into `out`, from the grant view. */
  text: (out: MapSink) => void;
  postmapCommand: string;
  postconfCommand: string;
  logger: Logger;
  /**
   * Run postmap through a resident shell (see postmap-runner.ts): the daemon's event loop never
   * blocks on a fork. Off for one-shot callers (the CLI), which must not leave a process behind.
   */
  residentPostmap?: boolean;
  /** Longest wait between retries after a failed build. */
  maxRetryMs?: number;
}

/** The map with no address (stop, withdraw, the reserve). */
const EMPTY = new MapContent(16);

export class MapPublisher implements Publisher {
  readonly name: string;
  private readonly o: MapPublisherOptions;
  private readonly suffix: string;
  private building: Promise<void> | null = null;
  private dirty = false;
  /** What the live map holds, once this publisher built it; and the buffer the next build fills. */
  private last: MapContent | null = null;
  private next = new MapContent();
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly runner: PostmapRunner | null;
  /** The reserve empty map's text name (built: + suffix). */
  private readonly reserve: string;
  /** Count of builds that reached the live map (benchmarks and tests read it). */
  builds = 0;

  constructor(options: MapPublisherOptions) {
    this.o = options;
    this.name = `${options.map.type}:${options.map.path}`;
    this.suffix = builtSuffix(options.map.type);
    this.runner = options.residentPostmap ? new PostmapRunner(options.postmapCommand) : null;
    this.reserve = `${options.map.path}.popgate-empty`;
  }

  async start(): Promise<void> {
    const types = await supportedMapTypes(this.o.postconfCommand);
    if (!types.has(this.o.map.type)) throw unsupportedMapType(`map ${this.name}`, this.o.map.type);
    checkMapDir(this.o.map.path);
    const content = this.fill();
    try {
      await this.build(content);
    } catch (err) {
      await this.failClosed(content, err);
      throw err;
    }
    await this.prepareReserve();
  }

  changed(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (!this.building && !this.retryTimer) this.loop();
  }

  async settled(): Promise<void> {
    while (this.building) await this.building;
  }

  /**
   * Stops publishing and withdraws the map: Postfix relays for nobody through it while popgate
   * is not running (the next start builds it again from the database). Throws when the empty
   * map could not be put in place.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.settled();
    try {
      await this.withdraw();
    } finally {
      this.runner?.close();
    }
  }

  /** Publishes an empty map now, whatever the grants (stop, `popgate withdraw`); the reserve when a build cannot. */
  async withdraw(): Promise<void> {
    try {
      await this.build(EMPTY);
    } catch (err) {
      if (!(await this.failClosed(EMPTY, err, true))) throw err;
    }
  }

  /** The pre-built empty map (see map-files.ts), made again after it was used. */
  private async prepareReserve(): Promise<void> {
    if (exists(this.reserve + this.suffix)) return;
    try {
      await this.postmapNew(this.reserve, EMPTY);
    } catch (err) {
      this.o.logger.warn(`${describe(err)}; without the reserve empty map a full disk cannot withdraw ${this.name}`);
    }
  }

  /**
   * A build failed. When the live map holds addresses that must go (expired, revoked, braked), it
   * is replaced by the reserve empty map: Postfix relays for nobody through it rather than for
   * the wrong ones. True when that happened.
   */
  private async failClosed(content: MapContent, err: unknown, always = false): Promise<boolean> {
    const live =
      this.last?.toString() ??
      publishedAddresses(this.o.map)
        ?.map((ip) => `${ip}\t`)
        .join('\n') ??
      '';
    if (!always && removedFrom(live, content.toString()) === 0) return false;
    const { path } = this.o.map;
    if (!(await swapInReserve(this.reserve + this.suffix, path + this.suffix).catch(() => false))) return false;
    await rm(path, { force: true }).catch(() => {}); // its text no longer says what Postfix reads
    (this.last ??= new MapContent(1024)).reset();
    this.o.logger.error(`${this.name}: cannot be rebuilt (${describe(err)}); the empty reserve map is in place, so Postfix relays for nobody through it until a build succeeds`);
    return true;
  }

  private loop(): void {
    this.building = (async () => {
      // Not in the batch's own loop turn: live answers that arrived meanwhile go first (one
      // setImmediate still ran before the next I/O poll: +0.3 ms to a policy OK from the commit),
      // and changes of the turn coalesce.
      await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        const content = this.fill();
        try {
          await this.build(content);
          this.failures = 0;
          await this.prepareReserve();
        } catch (err) {
          this.failures++;
          this.dirty = true;
          const wait = Math.min(this.o.maxRetryMs ?? 30_000, 500 * 2 ** Math.min(this.failures, 10));
          const closed = await this.failClosed(content, err);
          this.o.logger.error(
            `${describe(err)} (retrying in ${Math.round(wait / 1000)} s; ${closed ? 'the map is empty meanwhile' : 'Postfix keeps the previous map, which holds no address that must go'})`,
          );
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.loop();
          }, wait);
          this.retryTimer.unref?.();
          return;
        }
      }
    })().finally(() => {
      this.building = null;
    });
  }

  /** Writes `content` to a new text file at `file` and runs postmap on it (`file` + suffix is built). */
  private async postmapNew(file: string, content: MapContent): Promise<void> {
    try {
      // The text is written synchronously (a new file: microseconds, ~2 ms for 100k grants), where
      // a trip through libuv's thread pool costs up to milliseconds on a busy machine. postmap,
      // the slow part, runs as a child process: the event loop goes on meanwhile.
      await writeNew(file, content.bytes);
      await rm(file + this.suffix, { force: true });
      if (this.runner) await this.runner.build(this.o.map.type, file);
      else await postmap(this.o.postmapCommand, this.o.map.type, file);
    } catch (err) {
      await cleanUp(file, this.suffix);
      if (err instanceof PublishError || err instanceof UnavailableError) throw err;
      throw new PublishError(
        `map ${this.name}`,
        `cannot write (${describe(err)})`,
        /ENOSPC/.test(describe(err)) ? 'the disk is full: free space' : `check that ${dirname(file)} exists and is writable`,
        err,
      );
    }
  }

  /** One build; skipped when the content is what is already live. */
  private async build(content: MapContent): Promise<void> {
    const { path } = this.o.map;
    if (this.last?.equals(content) && exists(path + this.suffix)) return;
    const tmp = `${path}.popgate-new`;
    await this.postmapNew(tmp, content);
    try {
      // The built file first: that is what smtpd reads; the text follows for people and postmap -q.
      // Renames in the thread pool: over an existing file ext4 starts writing the new one back
      // (auto_da_alloc), which can block for milliseconds.
      await rename(tmp + this.suffix, path + this.suffix);
      await rename(tmp, path);
    } catch (err) {
      await cleanUp(tmp, this.suffix);
      throw new PublishError(`map ${this.name}`, `cannot rename the new map into place (${describe(err)})`, `check ${dirname(path)}`, err);
    }
    this.remember(content);
    this.builds++;
    if (this.o.logger.isDebugEnabled()) this.o.logger.debug(`published ${this.last!.lines()} address(es) to ${this.name}`);
  }

  /** The grant view's text, in the buffer not holding the live map's. */
  private fill(): MapContent {
    this.o.text(this.next.reset());
    return this.next;
  }

  /** `content` is live now: it becomes `last`, and the old one's buffer is filled next time. */
  private remember(content: MapContent): void {
    if (content === this.next) {
      this.next = this.last ?? new MapContent();
      this.last = content;
    } else (this.last ??= new MapContent(1024)).reset(); // EMPTY: the only other content built
  }
}
