// Reads lines from standard input (`--log -`): every line is live, nothing is checkpointed.
// Lines come in batches, one per chunk the pipe delivers (one transaction each, not one per
// line), through the shared splitter, so a huge line is dropped, never held.
import type { Readable } from 'node:stream';
import type { Logger } from 'winston';
import { dropWarning } from './drop-warning.js';
import { readLines } from './read-lines.js';
import type { BatchHandler, Source } from './source.js';

export interface StreamSourceOptions {
  /** Warns (rate-limited) about dropped overlong lines. */
  logger?: Logger;
  now?: () => number;
}

export class StreamSource implements Source {
  readonly name: string;
  private readonly input: Readable;
  private readonly now: () => number;
  private done: Promise<void> | null = null;
  private stopped = false;

  constructor(
    input: Readable,
    name = '-',
    private readonly options: StreamSourceOptions = {},
  ) {
    this.input = input;
    this.name = name;
    this.now = options.now ?? Date.now;
  }

  async start(handler: BatchHandler): Promise<void> {
    const onDrop = dropWarning(this.name, this.options.logger, this.now);
    this.done = (async () => {
      for await (const lines of readLines(this.input, { onDrop, origin: this.name, live: true, now: this.now })) {
        for (let attempt = 0; !this.stopped; attempt++) {
          try {
            await handler(lines, null);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
          }
        }
        if (this.stopped) break;
      }
    })().catch((err) => {
      // Input closed under us (stop, or the writer went away): nothing more to read.
      if (!this.stopped) this.options.logger?.warn(`${this.name}: input ended with an error (${(err as Error).message})`);
    });
  }

  reopen(): void {}

  async stop(): Promise<void> {
    this.stopped = true;
    // Ends a read that waits for more input; the batch in hand is finished first.
    this.input.destroy();
    await this.done;
  }
}
