// systemd's readiness protocol (sd_notify): READY=1, STATUS=…, WATCHDOG=1, STOPPING=1 sent to
// $NOTIFY_SOCKET. That is an AF_UNIX datagram socket, which Node cannot open, so the messages go
// through systemd's own `systemd-notify`, run by one resident shell: forking the daemon for each
// message would block its event loop for milliseconds (see postfix/postmap-runner.ts). The unit
// needs NotifyAccess=all, since the sender is that helper, not the main process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** Reads one message per line and hands it to systemd-notify as one argument. */
const SCRIPT = 'while IFS= read -r m; do "$1" "$m" || echo "systemd-notify failed: $m" >&2; done';

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  command?: string;
  warn?: (message: string) => void;
}

export class Notifier {
  private sh: ChildProcessWithoutNullStreams | null = null;
  private watchdogTimer: NodeJS.Timeout | null = null;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly o: NotifierOptions = {}) {
    this.env = o.env ?? process.env;
  }

  /** Whether systemd listens (Type=notify or a watchdog set in the unit). */
  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /** The watchdog interval systemd asked for (WatchdogSec), in ms; null when none is set for this process. */
  watchdogMs(): number | null {
    const usec = Number(this.env.WATCHDOG_USEC);
    const pid = this.env.WATCHDOG_PID;
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return null;
    if (pid && Number(pid) !== process.pid) return null;
    return usec / 1000;
  }

  ready(status: string): void {
    this.send(`READY=1`);
    this.status(status);
  }

  status(text: string): void {
    this.send(`STATUS=${text.replace(/[\r\n]+/g, ' ')}`);
  }

  /** While catching up: systemd's start timeout is moved on by `ms` from now, so a long backlog is not a failed start. */
  extendTimeout(ms: number): void {
    this.send(`EXTEND_TIMEOUT_USEC=${Math.round(ms * 1000)}`);
  }

  /**
   * Pings the watchdog at half its interval from the event loop, so a daemon whose loop hangs
   * stops pinging and systemd restarts it. `healthy` may hold a ping back (e.g. the store fails).
   */
  startWatchdog(healthy: () => boolean = () => true): void {
    const ms = this.watchdogMs();
    if (ms === null || this.watchdogTimer) return;
    this.watchdogTimer = setInterval(() => healthy() && this.send('WATCHDOG=1'), Math.max(500, ms / 2));
    this.watchdogTimer.unref();
    this.send('WATCHDOG=1');
  }

  stopping(): void {
    this.send('STOPPING=1');
  }

  close(): void {
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = null;
    this.sh?.stdin.end();
    this.sh = null;
  }

  private send(message: string): void {
    if (!this.enabled) return;
    this.shell()?.stdin.write(`${message}\n`);
  }

  private shell(): ChildProcessWithoutNullStreams | null {
    if (this.sh) return this.sh;
    const sh = spawn('sh', ['-c', SCRIPT, 'sh', this.o.command ?? 'systemd-notify'], { env: this.env });
    sh.unref();
    // An unref'd shell must not hold the daemon up either through its pipes.
    for (const s of [sh.stdin, sh.stdout, sh.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
    // Said once: a watchdog ping that fails every few seconds must not flood the log.
    sh.stderr.once('data', (d: Buffer) => this.o.warn?.(`sd_notify: ${d.toString().trim()}; hint: the unit needs NotifyAccess=all`));
    sh.stderr.resume();
    sh.stdin.on('error', () => {});
    sh.on('exit', () => {
      if (this.sh === sh) this.sh = null;
    });
    this.sh = sh;
    return sh;
  }
}
