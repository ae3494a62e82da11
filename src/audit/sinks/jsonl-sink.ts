import { createWriteStream, type WriteStream } from 'node:fs';
import type { AuditEvent } from '../audit-event';
import type { AuditSink } from './audit-sink';

/** One JSON object per line, to stdout (`-`) or appended to a file, for Fluentd, Vector or a SIEM agent. */
export class JsonlSink implements AuditSink {
  readonly name: string;
  private readonly out: NodeJS.WritableStream;
  private readonly file?: WriteStream;

  constructor(target: string) {
    this.name = target === '-' ? 'jsonl-stdout' : `jsonl-file`;
    if (target === '-') this.out = process.stdout;
    else {
      this.file = createWriteStream(target, { flags: 'a', mode: 0o640 });
      this.out = this.file;
    }
  }

  write(events: AuditEvent[]): Promise<void> {
    const text = events.map((e) => `${JSON.stringify(e)}\n`).join('');
    return new Promise((resolve, reject) => {
      this.out.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    return new Promise((resolve) => file.end(resolve));
  }
}
