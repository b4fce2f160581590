// A log path that is not a regular file: a directory, a FIFO, /dev/zero and a
// socket are refused at once with a SourceError that says what and how to fix; nothing waits
// on them or spins. A file missing at start is still waited for.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SourceError } from '../../src/core/errors.js';
import type { LogLine } from '../../src/core/types.js';
import { FileSource } from '../../src/sources/file-source.js';
import { readLines } from '../../src/sources/read-lines.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

const root = mkdtempSync(join(tmpdir(), 'popgate-kinds-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Settles within `ms`, or fails saying it hung (the old code waited forever on a FIFO). */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms)));
  return Promise.race([p, hung]).finally(() => clearTimeout(timer));
}

const refused = (kind: RegExp) => (e: unknown) => e instanceof SourceError && kind.test(e.message) && /: is a .*, not a regular file; hint: /.test(e.message);

describe('log paths that are not regular files', () => {
  const fifo = join(root, 'fifo.log');
  execFileSync('mkfifo', [fifo]);
  const dir = join(root, 'dir.log');
  mkdirSync(dir);

  for (const [name, path, kind] of [
    ['a FIFO', fifo, /FIFO/],
    ['a directory', dir, /directory/],
    ['/dev/zero', '/dev/zero', /character device/],
  ] as const) {
    it(`FileSource refuses ${name} at start, quickly`, async () => {
      let handed = 0;
      const src = new FileSource(path, { position: null, logger: memoryLogger().logger, pollMs: 20 });
      const t0 = Date.now();
      await assert.rejects(
        within(
          2000,
          src.start(() => void handed++),
          name,
        ),
        refused(kind),
      );
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.equal(handed, 0);
      await src.stop();
    });
  }

  it('FileSource refuses a socket file', async () => {
    const path = join(root, 'sock.log');
    const server = createServer();
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const src = new FileSource(path, { position: null, logger: memoryLogger().logger });
      await assert.rejects(
        within(
          2000,
          src.start(() => {}),
          'socket',
        ),
        refused(/socket/),
      );
      await src.stop();
    } finally {
      server.close();
    }
  });

  it('readLines (popgate parse) refuses a directory and /dev/zero, and reads a regular file', async () => {
    for (const [path, kind] of [
      [dir, /directory/],
      ['/dev/zero', /character device/],
    ] as const) {
      await assert.rejects(within(2000, readLines(path).next(), path), refused(kind));
    }
    const file = join(root, 'plain.log');
    writeFileSync(file, 'one\ntwo');
    const got: string[] = [];
    for await (const batch of readLines(file)) got.push(...batch.map((l) => `${l.lineNo}:${l.text}`));
    assert.deepEqual(got, ['1:one', '2:two']);
  });

  it('a file missing at start is still waited for; a FIFO put at the path later is refused, the old file kept', async () => {
    const d = join(root, 'later');
    mkdirSync(d);
    const path = join(d, 'mail.log');
    const got: LogLine[] = [];
    const { logger, messages } = memoryLogger();
    const src = new FileSource(path, { position: null, logger, pollMs: 20 });
    await within(
      2000,
      src.start((lines) => void got.push(...lines)),
      'missing file',
    );
    writeFileSync(path, 'hello\n');
    await waitFor('hello', () => got.length === 1);
    rmSync(path);
    execFileSync('mkfifo', [path]);
    await waitFor('an error about the FIFO', () => messages.some((m) => /^error: .*mail\.log: is a FIFO/.test(m)));
    await within(2000, src.stop(), 'stop');
    assert.equal(messages.filter((m) => /is a FIFO/.test(m)).length, 1, 'said once, not at every poll');
  });
});
