import { spawn } from "node:child_process";
import { check, repo, stackEnv, stacks, until } from "./context";

/**
 * `pnpm dev` on a terminal (a pty from script(1)), as a user runs it: Ctrl-C is a key there. With
 * `terminal: false`, as CI or a service manager runs it: in a process group of its own, stopped
 * by a signal to the group.
 */
export function startDev({ terminal = true } = {}) {
  const child = terminal
    ? spawn("script", ["-qfec", "pnpm dev", "/dev/null"], { cwd: repo, env: stackEnv, stdio: ["pipe", "pipe", "pipe"] })
    : spawn("pnpm", ["dev"], { cwd: repo, env: stackEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
  stacks.push(child);
  let out = "";
  let stopAt = -1;
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("close", r));
  // Colours off: Next paints a 503 red, the pretty log paints "warn" yellow.
  // eslint-disable-next-line no-control-regex
  const clean = (text: string) => text.replace(/\r/g, "").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  const startText = () => clean(out.slice(0, out.search(/Ctrl-C stops everything.*\n/) + 1));
  return {
    output: () => clean(out),
    banner: () => until(() => /Ctrl-C stops everything/.test(out), 240_000, () => `no banner:\n${out}`),
    /** Start-up and shutdown say nothing that reads as a failure. */
    quiet() {
      const noisy = [...noise(startText()), ...(stopAt >= 0 ? noise(clean(out.slice(stopAt))) : [])];
      check(noisy.length === 0, `pnpm dev printed warning or error lines while starting or stopping:\n${noisy.join("\n")}\n--- output:\n${clean(out).slice(-3000)}`);
    },
    async stop() {
      stopAt = out.length;
      if (terminal) child.stdin!.write("\u0003");
      else process.kill(-child.pid!, "SIGINT");
      const code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(r, 30_000, "hung"))]);
      check(code === 0, `pnpm dev did not exit 0 on ${terminal ? "Ctrl-C" : "SIGINT"} (${code}):\n${out.slice(-2000)}`);
      check(!out.includes("ELIFECYCLE"), `pnpm dev reported ELIFECYCLE:\n${out.slice(-2000)}`);
      check(/stopped\s*$/.test(clean(out)), `pnpm dev did not end with "stopped":\n${out.slice(-500)}`);
    },
    /** As a CI timeout or a closed terminal ends it: SIGKILL to pnpm dev's process group, no chance to clean up. */
    async kill() {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    },
  };
}

/** Lines that read as a failure: warnings, errors, a 4xx/5xx in Next's request log, ELIFECYCLE. */
export function noise(text: string): string[] {
  return text.split("\n").filter((l) => /\bwarn(ing)?\b|\berror\b|"level":"(warn|error)"|⚠|⨯|ELIFECYCLE|^\s*[A-Z]+ \/\S* [45]\d\d in /i.test(l));
}
