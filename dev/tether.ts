import { spawn } from "node:child_process";

/**
 * `tsx dev/tether.ts <command> [args...]`: runs a child of `pnpm dev` (next dev) so that it ends
 * when `pnpm dev` ends, however that happens. `pnpm dev` starts this in a process group of its own
 * (so Ctrl-C and its shutdown reach Next and all its workers at once) with a pipe on stdin; that
 * group would outlive a SIGKILL of pnpm dev, a closed terminal or a CI timeout. The pipe closes
 * whenever pnpm dev's process dies, and then this ends its whole group: Next and its workers.
 */
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: tsx dev/tether.ts <command> [args...]");
  process.exit(2);
}

// Same process group as this one (pnpm dev made it the leader): one kill of the group reaches all.
const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
child.on("error", (err) => {
  console.error(`${command}: ${err.message}`);
  process.exit(1);
});

// pnpm dev stops the group itself with SIGTERM: the child gets it too, and its exit ends this process.
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(s, () => {});

let orphaned = false;
const parentGone = () => {
  if (orphaned) return;
  orphaned = true;
  killGroup("SIGTERM");
  // Whatever ignores SIGTERM still goes; this process with it.
  setTimeout(() => killGroup("SIGKILL"), 5_000).unref();
};
function killGroup(signal: NodeJS.Signals) {
  try {
    process.kill(-process.pid, signal);
  } catch {
    child.kill(signal); // not a group leader (run by hand): the child alone
  }
}
process.stdin.on("end", parentGone);
process.stdin.on("close", parentGone);
process.stdin.on("error", parentGone);
process.stdin.resume();
