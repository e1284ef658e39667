/** One word for sh, whatever it holds: single-quoted, each ' written as '\''. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
