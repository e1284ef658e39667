/** The HTTP status of a failed Engine API call (dockerode puts it on the error), if any. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Docker's own message when it gave one, else the error's. */
export function messageOf(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | null;
  return e?.json?.message ?? e?.message ?? String(err);
}
