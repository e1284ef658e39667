import { createHash } from 'node:crypto';

/**
 * DS01's user-name sanitising, kept so that overrides and member files written
 * for DS01 keep matching: drop @domain, `.` and other invalid characters
 * become `_`, runs of `_` squeezed, trimmed.
 */
export function sanitiseUserName(name: string): string {
  const local = name.split('@')[0] ?? name;
  return local
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The systemd slice a user's containers run under: `ds01-<group>-<user>.slice`.
 * systemd reads every `-` as a level of nesting, so inside each part `-`
 * becomes `_` (DS01 left it and its quota checks looked in the wrong place);
 * parts over 32 characters are cut to 27 plus `_` and 4 hex digits of md5.
 */
export function userSliceName(group: string, user: string): string {
  return `ds01-${slicePart(group) || 'default'}-${slicePart(user) || 'unknown'}.slice`;
}

function slicePart(name: string): string {
  const s = sanitiseUserName(name).replace(/-/g, '_');
  if (s.length <= 32) return s;
  const hash = createHash('md5').update(s).digest('hex').slice(0, 4);
  return `${s.slice(0, 27)}_${hash}`;
}
