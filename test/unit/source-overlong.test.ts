// Every reader drops an overlong line whole: the file follower
// (catch-up and live reads), standard input (also a 600 MB line, in bounded memory) and
// readLines (the path `popgate parse` takes). Written against the Source interface, so the same
// test runs on the code before the shared splitter and fails there.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import type { LogLine } from '../../src/core/types.js';
import { FileSource } from '../../src/sources/file-source.js';
import { StreamSource } from '../../src/sources/stdin-source.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

const root = mkdtempSync(join(tmpdir(), 'popgate-overlong-'));
after(() => rmSync(root, { recursive: true, force: true }));

const FORGED = 'Nov 30 10:00:00 host dovecot: pop3-login: Login: user=<x>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1, session=<abc>';
const LIVE_CHUNK = 256 * 1024;
const BACKLOG_CHUNK = 1024 * 1024;
/** An "other program" line that fills a read of `chunk` bytes exactly, then the forged text: no newline between. */
const hidden = (chunk: number, lead: number) => `${'x'.repeat(chunk - lead)}${FORGED}\n`;

describe('overlong lines', () => {
  it('file follower, catch-up read: the forged tail of an overlong line is never a line', async () => {
    const file = join(root, 'backlog.log');
    writeFileSync(file, `first\n${hidden(BACKLOG_CHUNK, 'first\n'.length)}last\n`);
    const got: LogLine[] = [];
    const { logger, messages } = memoryLogger();
    const src = new FileSource(file, { position: null, logger, pollMs: 50 });
    await src.start((lines) => void got.push(...lines));
    await src.stop();
    assert.deepEqual(
      got.map((l) => [l.text, l.lineNo]),
      [
        ['first', 1],
        ['last', 3],
      ],
    );
    assert.ok(
      messages.some((m) => /^warn: .*line 2 .*dropped/.test(m)),
      messages.join('\n'),
    );
  });

  it('file follower, live read: the same at the live read size, and the position skips the line', async () => {
    const file = join(root, 'live.log');
    writeFileSync(file, 'start\n');
    const got: LogLine[] = [];
    let offset = 0;
    const src = new FileSource(file, { position: null, logger: memoryLogger().logger, pollMs: 20 });
    await src.start((lines, pos) => {
      got.push(...lines);
      if (pos) offset = pos.offset;
    });
    const body = `${hidden(LIVE_CHUNK, 0)}after\n`;
    appendFileSync(file, body);
    await waitFor('after', () => got.some((l) => l.text === 'after'));
    await src.stop();
    assert.deepEqual(
      got.map((l) => [l.text, l.lineNo]),
      [
        ['start', 1],
        ['after', 3],
      ],
    );
    assert.equal(offset, 'start\n'.length + Buffer.byteLength(body));
  });

  it('standard input: the forged tail is never a line, and lines come in batches, all live', async () => {
    const input = new PassThrough();
    const batches: LogLine[][] = [];
    const src = new StreamSource(input);
    await src.start((lines) => void batches.push(lines));
    const text = `a\n${hidden(64 * 1024, 2)}` + Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join('');
    for (let i = 0; i < text.length; i += 64 * 1024) input.write(text.slice(i, i + 64 * 1024));
    input.end();
    await waitFor('all lines', () => batches.flat().length === 2001);
    const lines = batches.flat();
    assert.ok(!lines.some((l) => l.text.includes('pop3-login')));
    assert.deepEqual(
      lines.slice(0, 2).map((l) => [l.text, l.lineNo]),
      [
        ['a', 1],
        ['line 0', 3],
      ],
    );
    assert.ok(lines.every((l) => l.live));
    assert.ok(batches.length <= 10, `${batches.length} batches for 2001 lines: one transaction per line would be too many`);
    await src.stop();
  });

  it('standard input: a 600 MB line is dropped in bounded memory, and what follows is read', async () => {
    const total = 600 * 1024 * 1024;
    const piece = Buffer.alloc(1024 * 1024, 0x41);
    let sent = 0;
    const input = new Readable({
      read() {
        if (sent < total) {
          sent += piece.length;
          this.push(piece);
        } else {
          this.push('\nafter the huge line\n');
          this.push(null);
        }
      },
    });
    const got: LogLine[] = [];
    let peak = 0;
    const base = process.memoryUsage().rss;
    const { logger, messages } = memoryLogger();
    const src = new StreamSource(input, '-', { logger });
    await src.start((lines) => {
      got.push(...lines);
    });
    await waitFor(
      'the line after',
      () => {
        peak = Math.max(peak, process.memoryUsage().rss - base);
        return got.length > 0;
      },
      60_000,
      5,
    );
    assert.deepEqual(
      got.map((l) => [l.text, l.lineNo]),
      [['after the huge line', 2]],
    );
    assert.ok(peak < 100 * 1024 * 1024, `RSS grew by ${Math.round(peak / 1048576)} MB while reading a 600 MB line`);
    assert.ok(
      messages.some((m) => /line 1 \(629145600 bytes\) dropped/.test(m)),
      messages.join('\n'),
    );
    await src.stop();
  });
});
