import { SingleBar } from "cli-progress";
import type { Io } from "./io";

export interface Progress {
  tick(label?: string): void;
  stop(): void;
}

const quiet: Progress = { tick() {}, stop() {} };

/**
 * A progress bar on the terminal (stderr), only for work long enough to be worth one; nothing at
 * all when output is piped, so logs and `--json` stay clean.
 */
export function progress(io: Io, total: number, title: string, minTotal = 5): Progress {
  if (!io.progressStream || total < minTotal) return quiet;
  const bar = new SingleBar({
    format: `${title} [{bar}] {value}/{total} {label}`,
    stream: io.progressStream,
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0, { label: "" });
  return {
    tick: (label = "") => bar.increment(1, { label }),
    stop: () => bar.stop(),
  };
}
