/**
 * Keys for `pnpm dev` in a terminal. Ctrl-C is read as a key, not taken as SIGINT: pnpm, which
 * runs this script, would otherwise get the signal too and report "ELIFECYCLE Command failed"
 * (exit 130) however cleanly the stack stopped. `b` reprints the banner once logs scrolled it away.
 */
export function listenForKeys(on: { stop: () => void; banner: () => void }): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  const onData = (key: string) => {
    if (key === "\u0003" || key === "q") on.stop();
    else if (key === "b") on.banner();
  };
  stdin.on("data", onData);
  stdin.resume();
  return () => {
    stdin.off("data", onData);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  };
}
