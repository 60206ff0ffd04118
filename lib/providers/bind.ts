import { once } from "./index";
import type { Providers } from "./types";

/**
 * The providers as a handler sees them: a call made without a signal gets the run's, so every
 * vendor request of a run stops when the run does, even where a job forgot to pass it; and no
 * request leaves once `fence` throws (the run can no longer prove it holds its lease), so a run
 * that lost the database never acts beside the run that took its job over. Every provider method
 * takes (request, signal?), which is what lets one wrapper serve the products' vendors too.
 */
export function providersWithSignal(p: Providers, signal: AbortSignal, fence: () => void = () => {}): Providers {
  const pick = (s: AbortSignal | undefined) => {
    fence();
    return s ?? signal;
  };
  const bind = <T extends object>(provider: T): T => {
    const inner = p.bind(provider);
    return new Proxy(inner, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== "function") return v;
        return (request: unknown, s?: AbortSignal) => (v as (r: unknown, s?: AbortSignal) => unknown).call(target, request, pick(s));
      },
    });
  };
  return {
    email: once(() => bind(p.email())),
    notify: once(() => bind(p.notify())),
    slack: once(() => {
      const sl = p.slack();
      return sl && bind(sl);
    }),
    kit: p.kit,
    bind,
    modes: () => p.modes(),
  };
}
