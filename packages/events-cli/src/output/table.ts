import type { Hit } from '../read/hit.js';
import { noPaint, type Paint, typeColour } from './colour.js';
import { cellField, headerOf } from './fields.js';
import type { LineSink } from './sink.js';

export interface TableOptions {
  columns: string[];
  utc: boolean;
  paint: Paint;
  /** Fix the widths from the first `batch` rows; later rows are cut to fit, so alignment never breaks. */
  batch?: number;
  /** Widths to use before any row is seen (follow without backlog). */
  minWidths?: Record<string, number>;
}

const MAX_COLUMN = 40;
const GAP = '  ';

/** An aligned table: the last column runs free, the others are padded to one width. */
export class TableWriter {
  private rows: string[][] = [];
  private types: string[] = [];
  private widths: number[] | null = null;
  private readonly paint: Paint;

  constructor(
    private readonly sink: LineSink,
    private readonly options: TableOptions,
  ) {
    this.paint = options.paint ?? noPaint;
  }

  async add(hit: Hit): Promise<void> {
    const { columns, utc } = this.options;
    this.rows.push(columns.map((c) => cellField(hit.event, hit.time, c, utc, columns)));
    this.types.push(hit.event.event_type);
    if (this.widths || this.rows.length >= (this.options.batch ?? 1000)) await this.flush();
  }

  /** Prints what is buffered; the first call fixes the widths and prints the header. */
  async flush(): Promise<void> {
    const { columns, utc } = this.options;
    if (!this.widths) {
      const headers = columns.map((c) => headerOf(c, utc));
      this.widths = columns.map((c, i) => {
        let w = Math.max(headers[i]?.length ?? 0, this.options.minWidths?.[c] ?? 0);
        for (const row of this.rows) w = Math.max(w, displayWidth(row[i] ?? ''));
        return Math.min(w, MAX_COLUMN);
      });
      await this.sink.line(this.paint(this.format(headers).trimEnd(), 'bold'));
    }
    for (let r = 0; r < this.rows.length; r++) {
      await this.sink.line(this.format(this.rows[r] as string[], this.types[r]));
    }
    this.rows = [];
    this.types = [];
  }

  private format(cells: string[], type?: string): string {
    const widths = this.widths as number[];
    const last = cells.length - 1;
    return cells
      .map((cell, i) => {
        if (i === last) return cell;
        const w = widths[i] as number;
        const fitted = fit(cell, w);
        const padded = fitted + ' '.repeat(Math.max(0, w - displayWidth(fitted)));
        const col = this.options.columns[i];
        if (type !== undefined && (col === 'type' || col === 'event_type')) {
          const colour = typeColour(type);
          return colour ? this.paint(padded, colour) : padded;
        }
        return padded;
      })
      .join(GAP)
      .trimEnd();
  }
}

function fit(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  for (const ch of text) {
    if (displayWidth(out) + displayWidth(ch) > width - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** Terminal columns of a string: East Asian wide characters take two, combining marks none. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x300) w += 1;
    else if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200b || (cp >= 0xfe00 && cp <= 0xfe0f)) w += 0;
    else if (
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd)
    )
      w += 2;
    else w += 1;
  }
  return w;
}
