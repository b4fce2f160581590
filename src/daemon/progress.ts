// A long catch-up (after a restart, or a first start on a big log) says how it goes: every few
// seconds each log's bytes read and share, lines/s and the time left; one line when it is done.
import { statSync } from 'node:fs';
import type { Logger } from 'winston';
import type { DaemonStats, LogCounters } from '../stats/counters.js';

export const PROGRESS_MS = 5000;

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');

function size(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** One progress line for a log still catching up, or null when there is nothing to say yet. */
export function progressLine(log: LogCounters, total: number | null, now: number): string | null {
  if (log.path === '-' || total === null) return null;
  const elapsed = now - log.startedAt;
  const done = Math.max(0, log.offset - log.startOffset);
  const left = Math.max(0, total - log.offset);
  const bytesPerMs = elapsed > 0 ? done / elapsed : 0;
  const eta = bytesPerMs > 0 ? `, about ${seconds(left / bytesPerMs)} left` : '';
  const share = total > 0 ? ` (${Math.floor((log.offset / total) * 100)}%)` : '';
  return `${log.path}: catching up, ${mb(log.offset)} of ${mb(total)} read${share}, ${int((log.lines * 1000) / Math.max(1, elapsed))} lines/s${eta}`;
}

export function caughtUpLine(log: LogCounters, now: number): string {
  const elapsed = Math.max(1, now - log.startedAt);
  return (
    `${log.path}: caught up, ${int(log.lines)} lines (${mb(Math.max(0, log.offset - log.startOffset))}) in ${(elapsed / 1000).toFixed(1)} s, ` +
    `${int((log.lines * 1000) / elapsed)} lines/s, ${int(log.logins)} login(s)`
  );
}

export class CatchUpProgress {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly stats: DaemonStats,
    private readonly logger: Logger,
    /** Told each progress report (systemd's STATUS and start timeout). */
    private readonly onProgress: (summary: string) => void = () => {},
    private readonly everyMs = PROGRESS_MS,
  ) {
    stats.onCaughtUp = (log) => this.logger.info(caughtUpLine(log, log.caughtUpAt ?? Date.now()));
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reports the logs still catching up. */
  tick(now = Date.now()): void {
    const lines: string[] = [];
    for (const log of this.stats.logs.values()) {
      const line = log.caughtUpAt === null ? progressLine(log, size(log.path), now) : null;
      if (line) lines.push(line);
    }
    for (const l of lines) this.logger.info(l);
    if (lines.length) this.onProgress(lines.join('; '));
  }
}
