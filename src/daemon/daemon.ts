// The daemon's lifecycle: start (assemble, publish, follow the logs), the timers (expiry, held
// logins, changes the CLI made), reload on SIGHUP, and stop. A line's way through is pipeline.ts.
import type { Logger } from 'winston';
import type { Config } from '../config/schema.js';
import { describe, EXIT, PopgateError } from '../core/errors.js';
import { InstanceLock } from '../core/instance-lock.js';
import { loadExclusions } from '../grants/exclusions.js';
import type { Publisher } from '../publish/publisher.js';
import { assemble, dnsblFrom, engineFor, granterOptions, type Parts } from './assemble.js';
import { ExpiryTimer } from './expiry.js';
import { Observer } from './observe.js';
import { mapMoved, Pipeline, type Changes } from './pipeline.js';
import { planReload, shortenGrants } from './reload.js';
import { BrakeNotice, ManualNotice, revokeRefused } from './revoke.js';
import { SourceSet } from './sources.js';

/** How often the store is asked whether the CLI (another process) changed it; held logins too. */
const TICK_MS = 200;
/** A WAL checkpoint every this many ticks (1 s), between batches rather than inside a commit. */
const CHECKPOINT_TICKS = 5;

export class Daemon {
  private readonly pipeline: Pipeline;
  private readonly sources: SourceSet;
  private readonly expiry: ExpiryTimer;
  private tickTimer: NodeJS.Timeout | null = null;
  private lastVersion = -1;
  private readonly brake: BrakeNotice;
  private readonly manual: ManualNotice;
  /** Counters, status, progress, systemd notification, metrics, audit retention. */
  readonly observer: Observer;
  /** While logs catch up, map changes wait for one build at the end. */
  private catchingUp = 0;
  private backlogMoved = false;
  private stopping = false;
  private ticks = 0;
  private onFatal: (err: PopgateError) => void = () => {};
  /** The database file opened at start. */
  private readonly dbId: string | null;
  /** Publishers started: before that, their own start publishes the current state. */
  private publishing = false;

  private constructor(
    private config: Config,
    private readonly logger: Logger,
    private readonly parts: Parts,
    private readonly lock: InstanceLock,
  ) {
    this.pipeline = new Pipeline(parts.store, parts.granter, parts.engine, parts.dnsbl, logger);
    this.sources = new SourceSet(parts.store, this.pipeline, (c) => this.onChanges(c), logger);
    this.expiry = new ExpiryTimer(parts.store, () => this.publish(), logger);
    this.brake = new BrakeNotice(logger);
    this.dbId = parts.store.fileId();
    this.manual = new ManualNotice(parts.store, logger);
    this.observer = new Observer(() => this.config, logger, parts, this.sources, this.pipeline);
  }

  get store() {
    return this.parts.store;
  }

  /** The publishers, for status and the benchmarks. */
  get publishers(): readonly Publisher[] {
    return this.parts.publishers;
  }

  /**
   * `onFatal`: the daemon cannot go on safely (its database was replaced): the caller stops it,
   * which withdraws the map, and exits non-zero.
   */
  static async start(config: Config, logger: Logger, onFatal: (err: PopgateError) => void = () => {}): Promise<Daemon> {
    // Before anything is opened: a second daemon must not touch the map or the database.
    // Until the daemon is built, `popgate status` hears that it is starting.
    let status: () => unknown = () => ({ version: 1, ok: false, problems: ['starting'] });
    const lock = await InstanceLock.acquire(config.db, config.map?.path ?? null, () => status());
    let parts: Parts;
    try {
      parts = await assemble(config, logger);
    } catch (err) {
      await lock.release();
      throw err;
    }
    const d = new Daemon(config, logger, parts, lock);
    status = () => d.observer.status();
    d.onFatal = onFatal;
    try {
      d.expiry.run();
      d.brake.notice(d.parts.view);
      d.watchDeny();
      for (const p of d.parts.publishers) await p.start();
      d.publishing = true;
      d.parts.shared?.view.onChange(() => d.publish());
      d.lastVersion = d.store.externalVersion();
      d.tickTimer = setInterval(() => d.tick(), TICK_MS);
      await d.observer.start();
      await d.follow(config.log);
      logger.info(`started: ${config.log.join(', ')} → ${d.parts.publishers.map((p) => p.name).join(', ') || 'no publisher'}; grace ${config.grace / 1000}s`);
      await d.observer.ready(() => d.settled());
      return d;
    } catch (err) {
      await d.stop();
      throw err;
    }
  }

  /** Follows logs until each has caught up; their backlog is published in one build. */
  private async follow(paths: readonly string[], reopen = false): Promise<void> {
    this.catchingUp++;
    try {
      await (reopen ? this.sources.set(paths) : this.sources.add(paths));
    } finally {
      this.catchingUp--;
    }
    if (this.backlogMoved && this.catchingUp === 0) this.publish();
  }

  private onChanges(c: Changes): void {
    if (c.earliest !== null) this.expiry.expiresBy(c.earliest);
    if (!mapMoved(c)) return;
    if (c.live || this.catchingUp === 0) this.publish();
    else this.backlogMoved = true;
  }

  private publish(): void {
    if (!this.publishing) return;
    this.backlogMoved = false;
    for (const p of this.parts.publishers) p.changed();
  }

  private tick(): void {
    if (this.dbId !== this.store.fileId()) {
      this.fatal(`the database file was ${this.store.fileId() ? 'replaced' : 'removed'} while popgate ran`, 'popgate stops (the map withdrawn) so that a restart opens the file at db; the database it had open is gone');
      return;
    }
    this.pollExternal();
    if (++this.ticks % CHECKPOINT_TICKS === 0) this.checkpoint();
    this.pipeline.release().then((c) => this.onChanges(c), (err) => this.logger.error(`held logins: ${describe(err)}`));
  }

  private fatal(what: string, hint: string): void {
    if (this.stopping) return;
    if (this.tickTimer) clearInterval(this.tickTimer);
    const err = new PopgateError('STORE', this.config.db, what, hint, { exitCode: EXIT.TEMPFAIL });
    this.logger.error(err.message);
    this.onFatal(err);
  }

  private checkpoint(): void {
    try {
      this.store.checkpoint();
    } catch (err) {
      this.logger.warn(`checkpoint: ${describe(err)}`);
    }
  }

  /** A CLI verb (grant, revoke, brake, …) committed: publish it and look at expiry again. */
  private pollExternal(): void {
    try {
      const v = this.store.externalVersion();
      if (v === this.lastVersion) return;
      this.lastVersion = v;
      this.manual.notice();
      this.brake.notice(this.parts.view);
      this.publish();
      this.expiry.run();
    } catch (err) {
      this.logger.error(describe(err));
    }
  }

  /** Deny files: read again on change; grants of addresses they now deny are revoked. */
  private watchDeny(): void {
    const deny = this.parts.exclusions.deny;
    deny?.watch(this.logger, () => {
      if (this.parts.exclusions.deny === deny && !this.stopping) this.revokeRefused('deny list');
    });
  }

  private revokeRefused(cause: string): void {
    if (revokeRefused(this.store, this.parts.view, cause, this.logger)) this.publish();
  }

  /** SIGHUP: every live setting applied, every restart-only one named; logs reopened. */
  async reload(next: Config): Promise<void> {
    const plan = planReload(this.config, next);
    const c = plan.running;
    if (plan.parts.has('exclusions')) {
      const old = this.parts.exclusions.deny;
      this.parts.exclusions = await loadExclusions(c, this.logger);
      this.parts.view.setExclusions(this.parts.exclusions);
      await old?.close();
      this.watchDeny();
      this.revokeRefused('reload');
    }
    if (plan.parts.has('granter')) {
      this.parts.granter.reconfigure(granterOptions(c));
      if (shortenGrants(this.store, this.config, c, this.logger)) {
        this.expiry.run();
        this.publish();
      }
    }
    if (plan.parts.has('dnsbl')) this.pipeline.dnsbl = dnsblFrom(c);
    if (plan.parts.has('parsers')) this.pipeline.engine = engineFor(c, this.pipeline.engine);
    if (plan.parts.has('logging')) this.logger.level = c.log_level;
    this.config = c;
    await this.follow(c.log, true);
    if (plan.restart.length) {
      this.logger.warn(`reload: ${plan.restart.map((k) => k.key).join(', ')} changed; that takes effect at the next restart (the running value stays)`);
    }
    this.logger.info(`configuration reloaded${plan.live.length ? ` (${plan.live.map((k) => k.key).join(', ')})` : ''}, logs reopened`);
  }

  /**
   * Ends sources (positions stored with each batch), timers and publishers — the map is
   * withdrawn, the live answerers close, so Postfix relays for nobody on popgate's word while it
   * is down — then the store, and last the lock.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.observer.stop();
    this.expiry.stop();
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.sources.stop();
    await this.parts.exclusions.deny?.close();
    for (const p of this.parts.publishers) {
      await p.stop().catch((err) => this.logger.error(`stop: ${describe(err)}; hint: popgate withdraw empties the map by hand`));
    }
    await this.parts.shared?.stop();
    this.store.close();
    await this.lock.release();
  }

  /** For tests: resolves when the publishers have nothing in hand. */
  async settled(): Promise<void> {
    for (const p of this.parts.publishers) await p.settled();
  }
}
