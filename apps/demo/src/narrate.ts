export interface Narrator {
  /** A section heading. */
  section: (title: string) => void;
  /** A line of explanation. */
  say: (text: string) => void;
  /** A command a user types, and what came back. */
  command: (user: string, cmd: string, result: { exitCode: number; stdout: string; stderr: string }, note?: string) => void;
  /** Raw tool output, indented. */
  block: (text: string) => void;
  /** Progress for waits, on stderr. */
  progress: (text: string) => void;
}

export function makeNarrator(opts: {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  quiet: boolean;
  colour: boolean;
  start: number;
}): Narrator {
  const c = (code: number) => (s: string) => (opts.colour ? `\u001b[${code}m${s}\u001b[0m` : s);
  const bold = c(1);
  const dim = c(2);
  const green = c(32);
  const red = c(31);
  const clock = () => dim(`[${((Date.now() - opts.start) / 1000).toFixed(1).padStart(5)}s]`);
  const write = (s: string) => {
    if (!opts.quiet) opts.out.write(`${s}\n`);
  };
  const indent = (text: string, pad = '          ') =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => `${pad}${l}`)
      .join('\n');
  return {
    section: (title) => write(`\n${bold(`== ${title}`)}`),
    say: (text) => write(`${clock()} ${text}`),
    command: (user, cmd, r, note) => {
      write(`${clock()} ${bold(`${user}$`)} ${cmd}`);
      const out = [r.stdout.trim(), r.stderr.trim()].filter(Boolean).join('\n');
      if (out) write(dim(indent(out)));
      const verdict = r.exitCode === 0 ? green(`→ ok`) : red(`→ refused (exit ${r.exitCode})`);
      write(`          ${verdict}${note ? `: ${note}` : ''}`);
    },
    block: (text) => write(indent(text, '    ')),
    progress: (text) => {
      if (!opts.quiet) opts.err.write(`${dim(text)}\n`);
    },
  };
}
