/**
 * Splits Docker's newline-delimited JSON stream into lines. Chunk boundaries
 * fall anywhere (mid-line, mid-UTF-8 character), so bytes are kept until a
 * newline arrives. A line longer than `maxLineBytes` is dropped whole and
 * counted, so one runaway line cannot grow the buffer without bound.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  /** Lines dropped for being longer than the limit. */
  oversized = 0;

  constructor(private readonly maxLineBytes = 1024 * 1024) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      this.take(chunk.subarray(start, nl));
      if (!this.discarding) {
        const line = Buffer.concat(this.parts, this.size).toString('utf8').trim();
        if (line) lines.push(line);
      }
      this.parts = [];
      this.size = 0;
      this.discarding = false;
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
    return lines;
  }

  /** Whatever is left when the stream ends (a last line without newline). */
  end(): string[] {
    const rest = this.discarding ? '' : Buffer.concat(this.parts, this.size).toString('utf8').trim();
    this.parts = [];
    this.size = 0;
    this.discarding = false;
    return rest ? [rest] : [];
  }

  private take(piece: Buffer): void {
    if (this.discarding || piece.length === 0) return;
    if (this.size + piece.length > this.maxLineBytes) {
      this.discarding = true;
      this.oversized += 1;
      this.parts = [];
      this.size = 0;
      return;
    }
    // Copy: the caller's chunk may be reused by the stream.
    this.parts.push(Buffer.from(piece));
    this.size += piece.length;
  }
}
