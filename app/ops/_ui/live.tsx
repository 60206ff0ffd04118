"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

const EVERY_MS = 2500;

/**
 * Keeps a console page current while runs are in flight: asks /ops/live for the ledger's version
 * (runs running, newest run) every few seconds while the tab is visible, and re-renders the page's
 * server components when it changes. router.refresh() keeps the URL (filters live there) and the
 * DOM of uncontrolled fields, so a half-typed search or form survives. Renders nothing.
 */
export function Live() {
  const router = useRouter();
  useEffect(() => {
    let last: string | undefined;
    let stopped = false;
    const poll = async () => {
      if (stopped || document.visibilityState !== "visible") return;
      try {
        const res = await fetch("/ops/live", { cache: "no-store" });
        // Signed out or expired: stop; the next navigation shows the sign-in.
        if (res.status === 401) return void (stopped = true);
        if (!res.ok) return;
        const { version } = (await res.json()) as { version: string };
        if (last !== undefined && version !== last) router.refresh();
        last = version;
      } catch {
        // The server is restarting or the network is down: the next tick asks again.
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), EVERY_MS);
    const onVisible = () => void poll();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      stopped = true;
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [router]);
  return null;
}
