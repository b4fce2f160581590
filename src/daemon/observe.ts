// Everything that watches the daemon rather than doing its work: the counters, `popgate status`
// (answered through the instance lock), catch-up progress, systemd's readiness and watchdog,
// the metrics endpoint and audit retention. The daemon makes one and calls it at start and stop.
import type { Logger } from 'winston';
import type { Config } from '../config/schema.js';
import { problems } from '../core/logger.js';
import { Notifier } from '../core/notify.js';
import type { MetricsServer } from '../metrics/server.js';
import { DaemonStats } from '../stats/counters.js';
import { countAnswers, type LiveCounters } from '../stats/live.js';
import { buildStatus, type StatusReport } from '../stats/report.js';
import type { Parts } from './assemble.js';
import { AuditRetention } from './audit-retention.js';
import type { Pipeline } from './pipeline.js';
import { CatchUpProgress, PROGRESS_MS } from './progress.js';
import type { SourceSet } from './sources.js';

/** How often systemd's STATUS= line is brought up to date once running. */
const STATUS_MS = 30_000;

export class Observer {
  readonly stats = new DaemonStats();
  private readonly live: LiveCounters[];
  private readonly notifier: Notifier;
  private readonly progress: CatchUpProgress;
  private readonly retention: AuditRetention;
  private metrics: MetricsServer | null = null;
  private statusTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: () => Config,
    private readonly logger: Logger,
    private readonly parts: Pick<Parts, 'store' | 'view' | 'publishers' | 'shared'>,
    sources: SourceSet,
    pipeline: Pipeline,
    notifier?: Notifier,
  ) {
    sources.stats = this.stats;
    pipeline.stats = this.stats;
    this.live = countAnswers(parts.publishers);
    this.notifier = notifier ?? new Notifier({ warn: (m) => logger.warn(m) });
    this.progress = new CatchUpProgress(this.stats, logger, (summary) => {
      // Each report moves systemd's start timeout on: a long backlog is slow, not a failed start.
      this.notifier.extendTimeout(3 * PROGRESS_MS);
      this.notifier.status(summary);
    });
    this.retention = new AuditRetention(parts.store, () => this.config().audit_keep, logger);
  }

  private inputs() {
    const { store, view, publishers } = this.parts;
    return { stats: this.stats, store, brake: () => view.brake(), publishers, live: this.live, problems: problems(this.logger), shared: this.parts.shared };
  }

  /** Before the logs are followed: the metrics endpoint, progress reports, the watchdog. */
  async start(): Promise<void> {
    const c = this.config();
    if (c.metrics) {
      // Loaded only when asked for: prom-client costs ~13 MB of resident memory.
      const [{ MetricsServer }, { popgateRegistry }] = await Promise.all([import('../metrics/server.js'), import('../metrics/registry.js')]);
      const m = new MetricsServer(c.metrics, popgateRegistry(this.inputs()), c.allow_non_loopback);
      await m.start();
      this.metrics = m;
      this.logger.info(`${m.where}: serving /metrics`);
    }
    this.progress.start();
    this.retention.start();
    this.notifier.startWatchdog();
  }

  /** Caught up and published: systemd's READY=1, then a STATUS= line kept up to date. */
  async ready(settled: () => Promise<void>): Promise<void> {
    await settled();
    this.notifier.ready(this.summary());
    this.statusTimer = setInterval(() => this.notifier.status(this.summary()), STATUS_MS);
    this.statusTimer.unref();
  }

  status(): StatusReport {
    return buildStatus(this.inputs());
  }

  /** One line for systemd's STATUS= (shown by systemctl status). */
  summary(): string {
    const s = this.status();
    if (s.brake) return `EMERGENCY BRAKE ON since ${s.brake.since}: nothing granted`;
    const logs = `${s.logs.length} log(s)${s.logs.some((l) => l.behind) ? ', behind' : ''}`;
    return `${s.grants.active} grant(s), ${s.grants.open_sessions} open session(s); ${logs}${s.ok ? '' : `; ${s.problems.join('; ')}`}`;
  }

  /** Said first at stop: systemd then knows the exit is wanted. */
  async stop(): Promise<void> {
    this.notifier.stopping();
    this.progress.stop();
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.retention.stop();
    await this.metrics?.stop();
    this.notifier.close();
  }
}
