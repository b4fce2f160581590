// The daemon's lifecycle: start (assemble, publish, follow the logs), the timers (expiry, held
// logins, changes the CLI made), reload on SIGHUP, and stop. A line's way through is pipeline.ts.
import type { Logger } from 'winston';
import type { Config } from '../config/schema.js';
import { describe, EXIT, PopgateError } from '../core/errors.js';
import { InstanceLock } from '../core/instance-lock.js';
import type { Publisher } from '../publish/publisher.js';
import { assemble, type Parts } from './assemble.js';
import { ExpiryTimer } from './expiry.js';
import { Observer } from './observe.js';
import { Pipeline, type Changes } from './pipeline.js';
import { Publication } from './publication.js';
import { revokeUntilDone, StoreWatch } from './outside.js';
import { applyReload } from './reload.js';
import { SourceSet } from './sources.js';

/** How often the store is asked whether the CLI (another process) changed it; held logins too. */
const TICK_MS = 200;

export class Daemon {
  private readonly pipeline: Pipeline;
  private readonly sources: SourceSet;
  private readonly expiry: ExpiryTimer;
  private tickTimer: NodeJS.Timeout | null = null;
  private watch!: StoreWatch;
  /** Counters, status, progress, systemd notification, metrics, audit retention. */
  readonly observer: Observer;
  private readonly publication: Publication;
  private stopping = false;
  private onFatal: (err: PopgateError) => void = () => {};

  private constructor(
    private config: Config,
    private readonly logger: Logger,
    private readonly parts: Parts,
    private readonly lock: InstanceLock,
  ) {
    this.publication = new Publication(parts.publishers);
    this.pipeline = new Pipeline(parts.store, parts.granter, parts.engine, parts.dnsbl, logger);
    this.sources = new SourceSet(
      parts.store,
      this.pipeline,
      (c) => this.onChanges(c),
      logger,
      () => this.config.grace + 60_000,
    );
    this.expiry = new ExpiryTimer(parts.store, () => this.publication.now(), logger);
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
      d.watchDeny();
      await d.publication.start();
      d.parts.shared?.view.onChange(() => d.publication.now());
      d.watch = new StoreWatch(d.store, d.parts.view, logger);
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
  private follow(paths: readonly string[], reopen = false): Promise<void> {
    return this.publication.catchUp(() => (reopen ? this.sources.set(paths) : this.sources.add(paths)));
  }

  private onChanges(c: Changes): void {
    // A writer's grant changes are in the outbox now: deliver them without waiting for the next poll.
    this.parts.shared?.deliverer.kick();
    if (c.earliest !== null) this.expiry.expiresBy(c.earliest);
    this.publication.changes(c);
  }

  private tick(): void {
    const seen = this.watch.poll();
    if (seen === 'replaced' || seen === 'removed') return this.fatal(`the database file was ${seen} while popgate ran`);
    if (seen === 'changed') {
      this.publication.now();
      this.expiry.run();
    }
    this.pipeline.release().then(
      (c) => this.onChanges(c),
      (err) => this.logger.error(`held logins: ${describe(err)}`),
    );
  }

  /** The daemon cannot go on safely: the caller stops it (the map withdrawn) and exits 75. */
  private fatal(what: string): void {
    if (this.stopping) return;
    if (this.tickTimer) clearInterval(this.tickTimer);
    const err = new PopgateError('STORE', this.config.db, what, 'popgate stops (the map withdrawn) so that a restart opens the file at db; the database it had open is gone', {
      exitCode: EXIT.TEMPFAIL,
    });
    this.logger.error(err.message);
    this.onFatal(err);
  }

  /** Deny files: read again on change; grants of addresses they now deny are revoked. */
  private watchDeny(): void {
    const deny = this.parts.exclusions.deny;
    deny?.watch(this.logger, () => {
      if (this.parts.exclusions.deny === deny && !this.stopping) this.revokeRefused('deny list');
    });
  }

  private revokeRefused(cause: string): void {
    revokeUntilDone(
      this.store,
      this.parts.view,
      cause,
      this.logger,
      () => this.publication.now(),
      () => this.stopping,
    );
  }

  /** SIGHUP: every live setting applied, every restart-only one named; logs reopened. */
  async reload(next: Config): Promise<void> {
    this.config = await applyReload(
      {
        config: this.config,
        parts: this.parts,
        pipeline: this.pipeline,
        logger: this.logger,
        watchDeny: () => this.watchDeny(),
        revokeRefused: (cause) => this.revokeRefused(cause),
        shortened: () => {
          this.expiry.run();
          this.publication.now();
        },
        stopped: () => this.stopping,
        follow: (paths) => this.follow(paths, true),
      },
      next,
    );
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
    await this.publication.stop(this.logger);
    await this.parts.shared?.stop();
    this.store.close();
    await this.lock.release();
  }

  /** For tests: resolves when the publishers have nothing in hand. */
  settled(): Promise<void> {
    return this.publication.settled();
  }
}
