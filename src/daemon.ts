// The daemon: sources → engine → granter/store → publishers, plus expiry and outside changes.
import type { Logger } from 'winston';
import { findParsers, PARSERS } from '../parsers/index.js';
import type { Config } from './config/schema.js';
import { DenyFiles } from './config/deny-files.js';
import { ConfigError, describe } from './core/errors.js';
import type { AuthEvent, LogLine } from './core/types.js';
import { brakeState, describeBrake } from './grants/brake.js';
import { Dnsbl } from './grants/dnsbl.js';
import { Granter } from './grants/granter.js';
import { GrantPolicy } from './grants/policy.js';
import { RateGuard } from './grants/rate-guard.js';
import { SqliteStore } from './grants/sqlite-store.js';
import type { Position } from './grants/store.js';
import type { Network } from './net/ip.js';
import { Engine, type SourceState } from './parse/engine.js';
import type { ParserSpec } from './parse/spec.js';
import { MapPublisher } from './publish/map-publisher.js';
import { PolicyServer } from './publish/policy-server.js';
import { readMynetworks } from './publish/postfix.js';
import type { Publisher } from './publish/publisher.js';
import { SocketmapServer } from './publish/socketmap-server.js';
import { FileSource } from './sources/file-source.js';
import type { Source } from './sources/source.js';
import { StreamSource } from './sources/stdin-source.js';

/** How often the store is asked whether the CLI (another process) changed it. */
const EXTERNAL_POLL_MS = 200;
const MAX_TIMER = 2 ** 31 - 1;

export function selectParsers(names: readonly string[], where: string): ParserSpec[] {
  if (names.length === 0) return [...PARSERS];
  try {
    return findParsers(names);
  } catch (err) {
    throw new ConfigError(where, describe(err), 'popgate parse --help lists the parsers');
  }
}

export async function buildPolicy(config: Config, logger: Logger): Promise<GrantPolicy> {
  let mynetworks: Network[] = [];
  if (config.use_mynetworks) {
    const r = await readMynetworks(config.postconf_command);
    if (!r) logger.warn(`${config.postconf_command} not found: Postfix's mynetworks not read; hint: install Postfix or set use_mynetworks = no`);
    else {
      mynetworks = r.networks;
      if (r.skipped.length) logger.warn(`mynetworks: cannot read ${r.skipped.join(', ')}; those entries are not excluded from grants`);
    }
  }
  const deny = config.exclude_files.length ? new DenyFiles(config.exclude_files) : null;
  return new GrantPolicy(config.exclude, mynetworks, deny);
}

function granterOptions(config: Config) {
  const guard = config.brake_rate || config.brake_burst ? new RateGuard({ total: config.brake_rate, perSource: config.brake_burst }) : null;
  return { graceMs: config.grace, maxHoldMs: config.max_hold, guard };
}

function dnsblFrom(config: Config): Dnsbl | null {
  if (config.dnsbl_zones.length === 0) return null;
  return new Dnsbl({ zones: config.dnsbl_zones, servers: config.dnsbl_servers, timeoutMs: config.dnsbl_timeout, failOpen: config.dnsbl_fail === 'open', cacheMs: config.dnsbl_cache });
}

type Pending = { ev: AuthEvent; line: LogLine };

/** The line a held login is charged to when the clock (not a later line) confirms it. */
function heldLine(now: number): LogLine {
  return { text: '', origin: 'held login', lineNo: 0, readAt: now, live: true };
}

export class Daemon {
  readonly store: SqliteStore;
  private readonly engine: Engine;
  private readonly granter: Granter;
  private readonly publishers: Publisher[] = [];
  private readonly sources = new Map<string, { source: Source; state: SourceState }>();
  private expiryTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private lastVersion = -1;
  private stopping = false;
  private dnsbl: Dnsbl | null;
  private lastBrake: string | null = null;
  /** A backlog batch changed grants: publish once the log is caught up. */
  private publishWhenCaughtUp = false;

  private constructor(private config: Config, private readonly logger: Logger, private policy: GrantPolicy) {
    this.store = new SqliteStore(config.db);
    this.engine = new Engine(selectParsers(config.parsers, 'parsers'));
    for (const s of this.store.openSessions()) this.engine.rememberSession(s.key, s.ip, s.user, s.protocol);
    this.granter = new Granter(this.store, policy, granterOptions(config), logger);
    this.dnsbl = dnsblFrom(config);
    if (config.map) {
      this.publishers.push(new MapPublisher({
        map: config.map,
        value: config.map_value,
        // The emergency brake publishes nothing, whatever the store holds.
        addresses: () => (brakeState(this.store) ? [] : this.store.activeIps(Date.now())),
        text: () => (brakeState(this.store) ? '' : this.store.mapText(Date.now(), config.map_value)),
        residentPostmap: true,
        postmapCommand: config.postmap_command,
        postconfCommand: config.postconf_command,
        logger,
      }));
    }
    // Live answers: asked by Postfix per RCPT, straight from the store (see publish/answer.ts).
    const live = { allowNonLoopback: config.allow_non_loopback, store: this.store, logger };
    if (config.policy) this.publishers.push(new PolicyServer({ ...live, address: config.policy, action: config.policy_action }));
    if (config.socketmap) this.publishers.push(new SocketmapServer({ ...live, address: config.socketmap, mapName: config.socketmap_name, value: config.map_value }));
  }

  static async start(config: Config, logger: Logger): Promise<Daemon> {
    const d = new Daemon(config, logger, await buildPolicy(config, logger));
    try {
      d.expire();
      d.noticeBrake();
      d.watchDeny();
      for (const p of d.publishers) await p.start();
      d.store.setState('daemon_pid', String(process.pid));
      d.lastVersion = d.store.externalVersion();
      d.pollTimer = setInterval(() => {
        d.pollExternal();
        d.releaseHeld();
      }, EXTERNAL_POLL_MS);
      for (const path of config.log) await d.addSource(path);
      d.scheduleExpiry();
      logger.info(`started: ${config.log.join(', ')} → ${d.publishers.map((p) => p.name).join(', ') || 'no publisher'}; grace ${config.grace / 1000}s`);
      return d;
    } catch (err) {
      await d.stop();
      throw err;
    }
  }

  private async addSource(path: string): Promise<void> {
    const source: Source = path === '-' ? new StreamSource(process.stdin) : new FileSource(path, { position: this.store.getPosition(path), logger: this.logger });
    const entry = { source, state: this.engine.newSource() };
    this.sources.set(path, entry);
    await source.start((lines, pos) => this.handleBatch(path, entry.state, lines, pos));
    // Caught up: the backlog's grants are published at once, in one build.
    if (this.publishWhenCaughtUp) {
      this.publishWhenCaughtUp = false;
      for (const p of this.publishers) p.changed();
    }
  }

  /**
   * One batch: events and the new position are stored in one transaction. With DNSBL zones
   * set, the lookups of the batch run first (bounded by dnsbl_timeout), outside the transaction.
   */
  private handleBatch(name: string, state: SourceState, lines: LogLine[], pos: Position | null): void | Promise<void> {
    const now = Date.now();
    const events: Pending[] = [];
    for (const line of lines) {
      const ev = this.engine.feed(line.text, state, now);
      if (ev) events.push({ ev, line });
    }
    // Logins a server may still refuse (Cyrus popminpoll) come out once confirmed: by this batch's lines, or by the clock.
    const last = lines[lines.length - 1];
    for (const ev of this.engine.drain(now)) events.push({ ev, line: last ?? heldLine(now) });
    return this.settle(name, events, pos, now);
  }

  /** Held logins the clock confirmed while no line came (called with the external poll). */
  private releaseHeld(): void {
    const now = Date.now();
    const events = this.engine.drain(now).map((ev) => ({ ev, line: heldLine(now) }));
    if (events.length === 0) return;
    try {
      void Promise.resolve(this.settle('', events, null, now)).catch((err) => this.logger.error(describe(err)));
    } catch (err) {
      this.logger.error(describe(err));
    }
  }

  /** DNSBL (when configured) before the transaction, then one transaction for events and position. */
  private settle(name: string, events: Pending[], pos: Position | null, now: number): void | Promise<void> {
    if (events.length === 0 && !pos) return;
    const dnsbl = this.dnsbl;
    if (!dnsbl) return this.commit(name, events, pos, now, null);
    const ips = new Set(events.filter(({ ev, line }) => this.granter.candidate(ev, line, now)).map(({ ev }) => ev.ip));
    if (ips.size === 0) return this.commit(name, events, pos, now, null);
    return Promise.all([...ips].map(async (ip) => {
      const v = await dnsbl.check(ip);
      if (v.kind === 'failed' && !dnsbl.refusal(v)) this.logger.warn(`DNSBL ${v.zone} lookup for ${ip} failed (${v.why}); granted anyway (dnsbl_fail = open)`);
      return [ip, dnsbl.refusal(v)] as const;
    })).then((vetoes) => this.commit(name, events, pos, Date.now(), new Map(vetoes)));
  }

  /**
   * The map is rebuilt only when its content may differ: a new grant (or the brake), or a renewal
   * or logout that made an address active or inactive — not for renewals of granted addresses.
   * While a log is caught up, one build follows the whole backlog (see addSource).
   */
  private commit(name: string, events: Pending[], pos: Position | null, now: number, vetoes: Map<string, string | null> | null): void {
    let changed = false;
    let moved = false;
    const activeChanges = this.store.activeChanges;
    try {
      this.store.transaction(() => {
        // The brake is read once for the whole batch (Granter.batch).
        this.granter.batch(() => {
          for (const { ev, line } of events) {
            const out = this.granter.apply(ev, line, now, vetoes?.get(ev.ip) ?? null);
            if (out.action === 'grant') changed = true;
            else if (out.action === 'renew' || out.action === 'logout') moved = true;
          }
        });
        if (pos) this.store.setPosition(name, pos, now);
      });
    } catch (err) {
      this.logger.error(`${describe(err)} (the lines are read again)`);
      throw err;
    }
    if (this.store.activeChanges !== activeChanges) changed = true;
    if (changed) {
      if (events[events.length - 1]!.line.live) for (const p of this.publishers) p.changed();
      else this.publishWhenCaughtUp = true;
    }
    if (changed || moved) this.scheduleExpiry();
  }

  private pollExternal(): void {
    try {
      const v = this.store.externalVersion();
      if (v === this.lastVersion) return;
      this.lastVersion = v;
      this.noticeBrake();
      for (const p of this.publishers) p.changed();
      this.scheduleExpiry();
    } catch (err) {
      this.logger.error(describe(err));
    }
  }

  /** Says when the brake was applied or released (by the CLI, or found at start). */
  private noticeBrake(): void {
    const b = brakeState(this.store);
    const text = b ? JSON.stringify(b) : null;
    if (text === this.lastBrake) return;
    this.lastBrake = text;
    if (b) this.logger.error(`emergency brake is on (${describeBrake(b)}): nothing is published or granted until "popgate release"`);
    else if (text === null && this.lastVersion !== -1) this.logger.warn('emergency brake released: granting again');
  }

  /** Deny files: read again on change; grants of addresses they now deny are revoked. */
  private watchDeny(): void {
    const deny = this.policy.deny;
    if (!(deny instanceof DenyFiles)) return;
    deny.watch(this.logger, () => {
      if (this.policy.deny === deny && !this.stopping) this.revokeRefused('deny list');
    });
  }

  /** After the policy changed (deny file edit, SIGHUP): grants it now refuses end at once. */
  private revokeRefused(cause: string): void {
    const now = Date.now();
    let revoked = 0;
    try {
      this.store.transaction(() => {
        for (const ip of this.store.activeIps(now)) {
          const why = this.policy.refuse(ip);
          if (why && this.store.revoke(ip, now, `${cause}: ${why}`)) {
            this.logger.info(`revoke ${ip}: ${why}`);
            revoked++;
          }
        }
      });
    } catch (err) {
      this.logger.error(describe(err));
    }
    if (revoked) for (const p of this.publishers) p.changed();
  }

  private expire(): void {
    const now = Date.now();
    for (const ip of this.store.expire(now)) this.logger.info(`expire ${ip}: grace ended`);
  }

  /** Expiry fires at the next expires_at, not on a fixed poll. */
  private scheduleExpiry(): void {
    if (this.stopping) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const now = Date.now();
    const next = this.store.nextExpiry(now);
    if (next === null) return;
    this.expiryTimer = setTimeout(() => {
      try {
        this.expire();
        for (const p of this.publishers) p.changed();
      } catch (err) {
        this.logger.error(describe(err));
      }
      this.scheduleExpiry();
    }, Math.min(MAX_TIMER, Math.max(0, next - now + 1)));
  }

  /** SIGHUP: new settings for grants and logging, logs reopened; map and db need a restart. */
  async reload(config: Config): Promise<void> {
    const policy = await buildPolicy(config, this.logger);
    const old = this.policy.deny;
    this.policy = policy;
    this.granter.reconfigure(policy, granterOptions(config));
    this.dnsbl = dnsblFrom(config);
    if (old instanceof DenyFiles) await old.close();
    this.watchDeny();
    this.revokeRefused('reload');
    this.logger.level = config.log_level;
    if (config.db !== this.config.db || JSON.stringify(config.map) !== JSON.stringify(this.config.map) || config.map_value !== this.config.map_value) {
      this.logger.warn('reload: db and map changes take effect at the next restart');
    }
    const live = (c: Config) => JSON.stringify([c.policy, c.policy_action, c.socketmap, c.socketmap_name, c.allow_non_loopback]);
    if (live(config) !== live(this.config)) this.logger.warn('reload: policy and socketmap changes take effect at the next restart');
    for (const [path, { source }] of this.sources) {
      if (!config.log.includes(path)) {
        await source.stop();
        this.sources.delete(path);
      } else source.reopen();
    }
    for (const path of config.log) if (!this.sources.has(path)) await this.addSource(path);
    // What needs a restart stays as running, so the next reload compares with what really runs.
    const c = this.config;
    this.config = { ...config, db: c.db, map: c.map, map_value: c.map_value, policy: c.policy, policy_action: c.policy_action, socketmap: c.socketmap, socketmap_name: c.socketmap_name, allow_non_loopback: c.allow_non_loopback };
    this.logger.info('configuration reloaded, logs reopened');
  }

  /** Ends sources (positions stored with each batch), publishers, timers and the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const { source } of this.sources.values()) await source.stop();
    if (this.policy.deny instanceof DenyFiles) await this.policy.deny.close();
    for (const p of this.publishers) await p.stop();
    try {
      if (this.store.getState('daemon_pid') === String(process.pid)) this.store.setState('daemon_pid', null);
    } catch {
      // The store may be what failed; closing is all that is left.
    }
    this.store.close();
  }

  /** For tests: resolves when sources and publishers have nothing in hand. */
  async settled(): Promise<void> {
    for (const p of this.publishers) await p.settled();
  }
}
