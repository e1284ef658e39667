import type { Writable } from 'node:stream';

/**
 * Buffered line output with backpressure: many small writes become few large
 * ones. A closed reader (`| head`) ends the program quietly.
 */
export class LineSink {
  private pending: string[] = [];
  private size = 0;
  constructor(private readonly out: Writable = process.stdout) {
    if (out === process.stdout)
      out.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw err;
      });
  }

  async line(text: string): Promise<void> {
    this.pending.push(text);
    this.size += text.length + 1;
    if (this.size >= 1 << 16) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.size = 0;
    if (!this.out.write(text)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }
}
