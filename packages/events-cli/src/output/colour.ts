const RESET = '\x1b[0m';
const CODES = {
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  blue: '\x1b[34m',
  magenta: '\x1b[35m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
};

export type Paint = (text: string, kind: keyof typeof CODES) => string;

export const noPaint: Paint = (text) => text;
export const ansiPaint: Paint = (text, kind) => (text ? `${CODES[kind]}${text}${RESET}` : text);

/** Colour only on a terminal, never with NO_COLOR or --no-color (explicit --color wins). */
export function wantColour(flag: boolean | undefined, env: NodeJS.ProcessEnv, isTty: boolean): boolean {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTty;
}

/** The colour of an event type, from the type alone (never from data). */
export function typeColour(type: string): keyof typeof CODES | null {
  if (/(^|[._])(reject|rejected|denied|fail|failed|error|oom_kill|lock_timeout)$/.test(type)) return 'red';
  if (type.startsWith('maintenance.')) return 'yellow';
  if (type.startsWith('gpu.')) return 'green';
  if (type.startsWith('container.')) return 'blue';
  if (type.startsWith('auth.') || type.startsWith('access.')) return 'magenta';
  return null;
}
