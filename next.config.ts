import type { NextConfig } from "next";
import { PHASE_PRODUCTION_BUILD } from "next/constants";
import { EnvError, isDeclared, loadEnv, modeOf } from "./lib/env";

const nextConfig: NextConfig = {
  // The end-to-end tests run their own `next dev` beside a developer's `pnpm dev`: a separate
  // build folder keeps the two from fighting over .next's lock.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  reactStrictMode: true,
  poweredByHeader: false,
  // `next dev` logs every request; a job delivery already logs its run, so its access line is noise.
  logging: { incomingRequests: { ignore: [/^\/api\/(cron|jobs)\//] } },
};

/**
 * A build for a declared deployment (Vercel's VERCEL_ENV, or APP_ENV) fails here with one message
 * listing every problem, instead of at the first delivery. A build that does not say where it goes
 * (a Docker image whose secrets arrive at run time) builds; its server then refuses every job until
 * the env is complete (instrumentation.ts says so at boot).
 */
export default function config(phase: string): NextConfig {
  if (phase === PHASE_PRODUCTION_BUILD && isDeclared(process.env)) {
    try {
      loadEnv(process.env);
      // Which names exist is known where the products are composed (checked at boot); that one is set, here.
      if (modeOf(process.env) === "production" && !process.env.PRODUCTS?.trim()) {
        throw new EnvError(["PRODUCTS is required in production: the products this deployment runs, comma-separated (see config/products.ts), e.g. PRODUCTS=forms,commerce"]);
      }
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      // Thrown, Next would print the list a second time with a stack: say it once and stop.
      console.error(`\n${err.message}\n`);
      process.exit(1);
    }
  }
  return nextConfig;
}
