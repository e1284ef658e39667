/**
 * Strings for byte spans of printable ASCII, made once per distinct value:
 * a summary sees the same few types, users and sources a million times, and
 * decoding each occurrence would allocate a million strings.
 */
export class Interner {
  private readonly table = new Map<number, { bytes: Buffer; text: string }[]>();

  get(buf: Buffer, start: number, end: number): string {
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    h &= 0x3fffffff;
    const bucket = this.table.get(h);
    if (bucket) {
      for (const entry of bucket) if (sameBytes(entry.bytes, buf, start, end)) return entry.text;
    }
    const entry = { bytes: Buffer.from(buf.subarray(start, end)), text: buf.toString('latin1', start, end) };
    if (bucket) bucket.push(entry);
    else this.table.set(h, [entry]);
    return entry.text;
  }
}

function sameBytes(a: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
