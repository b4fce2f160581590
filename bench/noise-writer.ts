// Log noise from its own process, as syslog writes it: the daemon's event loop carries nothing of
// the bench's while latency is measured. `node noise-writer.js LOG LINES_PER_SEC CLIENTS` appends
// generated lines in 10 ms steps until killed.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { LogGenerator } from './generate.js';

function writeNoise(log: string, perSec: number, clients: number): void {
  // Another seed than the harness's generator (session ids must not repeat), the same clients.
  const gen = new LogGenerator({ seed: 8, clients, format: 'rfc3339' });
  const fd = openSync(log, 'a');
  const t0 = performance.now();
  let written = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * perSec) - written;
    if (due <= 0) return;
    const now = Date.now();
    let text = '';
    for (let i = 0; i < due; i++) text += `${gen.line(now)}\n`;
    writeSync(fd, text);
    written += due;
  }, 10);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    closeSync(fd);
    process.exit(0);
  });
}

/** Starts the writer; the function returned stops it and waits for its exit. */
export function startNoise(log: string, perSec: number, clients: number): () => Promise<void> {
  const child: ChildProcess = spawn(process.execPath, [new URL(import.meta.url).pathname, '--noise', log, String(perSec), String(clients)], { stdio: 'inherit' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}

if (process.argv[2] === '--noise') writeNoise(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
