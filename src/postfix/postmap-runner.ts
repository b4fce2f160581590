// Runs postmap through a small resident shell, so that building a map never forks the daemon:
// forking a Node process blocks its event loop for milliseconds (3.8 ms at 180 MB RSS on a
// 2-core VM), and no policy or socketmap lookup is answered meanwhile. The shell forks instead.
// One command at a time; a shell that dies or hangs is replaced at the next build.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PublishError, UnavailableError } from '../core/errors.js';
import { postmapFailed, toolMissing } from './hints.js';

/** Reads one argument per line, runs `$1 ARG`, answers its output then a line `=EXIT_CODE`. */
const SCRIPT = 'while IFS= read -r a; do "$1" "$a" 2>&1; printf "\\n=%d\\n" "$?"; done';
const DONE = /\n=(\d+)\n$/;

interface Pending {
  resolve: (r: { code: number; output: string }) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class PostmapRunner {
  private sh: ChildProcessWithoutNullStreams | null = null;
  private buf = '';
  private pending: Pending | null = null;

  constructor(private readonly command: string) {}

  /** `postmap TYPE:PATH`; throws UnavailableError when postmap is missing, PublishError when it fails. */
  async build(type: string, path: string, timeoutMs = 60_000): Promise<void> {
    const { code, output } = await this.run(`${type}:${path}`, timeoutMs);
    if (code === 127) throw toolMissing(this.command, 'postmap_command');
    if (code !== 0) throw postmapFailed(`${type}:${path}`, output.trim() || `exit ${code}`);
  }

  close(): void {
    this.kill();
  }

  private run(arg: string, timeoutMs: number): Promise<{ code: number; output: string }> {
    if (this.pending) return Promise.reject(new Error('postmap runner: one build at a time'));
    if (/[\n\r]/.test(arg)) return Promise.reject(new Error('postmap runner: a line break in a path'));
    const sh = this.shell();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new PublishError(`postmap ${arg}`, `no answer within ${timeoutMs / 1000} s`, 'check the disk and the map directory'));
        this.kill();
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      sh.stdin.write(`${arg}\n`);
    });
  }

  private shell(): ChildProcessWithoutNullStreams {
    if (this.sh) return this.sh;
    // Its own process group: a hung postmap is killed with it.
    const sh = spawn('sh', ['-c', SCRIPT, 'sh', this.command], { detached: true });
    sh.unref();
    sh.stdout.on('data', (d: Buffer) => {
      this.buf += d.toString();
      const m = DONE.exec(this.buf);
      if (!m || !this.pending) return;
      const output = this.buf.slice(0, m.index);
      this.buf = '';
      const p = this.pending;
      this.pending = null;
      clearTimeout(p.timer);
      p.resolve({ code: Number(m[1]), output });
    });
    sh.stderr.on('data', () => {});
    sh.stdin.on('error', () => {});
    sh.on('error', (err) => this.fail(new UnavailableError('sh', `cannot run the shell that runs postmap (${err.message})`, 'check that /bin/sh exists', err)));
    sh.on('exit', () => {
      if (this.sh === sh) this.sh = null;
      this.fail(new PublishError('postmap runner', 'the shell that runs postmap ended', 'it is started again at the next build'));
    });
    this.sh = sh;
    this.buf = '';
    return sh;
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    clearTimeout(p.timer);
    p.reject(err);
  }

  private kill(): void {
    const sh = this.sh;
    this.sh = null;
    if (!sh?.pid) return;
    try {
      process.kill(-sh.pid, 'SIGKILL');
    } catch {
      sh.kill('SIGKILL');
    }
  }
}
