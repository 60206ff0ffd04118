import { createInterface } from "node:readline/promises";

/**
 * Where a command writes. Commands take an `Io` instead of touching process.stdout, so tests run
 * them in-process and read what an operator would have seen, and `--json` output stays clean:
 * logs and progress bars go to stderr, results to stdout.
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdout is a terminal: progress bars and prompts make sense. */
  isTTY: boolean;
  /** Terminal width; when piped, $COLUMNS if set, else undefined (tables are then not wrapped). */
  columns: number | undefined;
  /** The stream progress bars draw on (stderr), when there is a terminal. */
  progressStream: NodeJS.WritableStream | undefined;
  /** Asks a yes/no question; false when there is nobody to ask. */
  confirm(question: string): Promise<boolean>;
}

export function processIo(): Io {
  const tty = Boolean(process.stdout.isTTY);
  return {
    out: (t) => void process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => void process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    isTTY: tty,
    columns: tty ? process.stdout.columns : Number(process.env.COLUMNS) || undefined,
    progressStream: tty && process.stderr.isTTY ? process.stderr : undefined,
    async confirm(question) {
      if (!process.stdin.isTTY) return false;
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** An Io that keeps everything in memory: what tests read, and how a caller captures output. */
export function memoryIo(opts: { isTTY?: boolean; columns?: number; answer?: boolean } = {}): Io & { stdout: () => string; stderr: () => string; asked: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  return {
    out: (t) => void out.push(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => void err.push(t.endsWith("\n") ? t : t + "\n"),
    isTTY: opts.isTTY ?? false,
    columns: opts.columns,
    progressStream: undefined,
    async confirm(q) {
      asked.push(q);
      return opts.answer ?? false;
    },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
    asked,
  };
}
