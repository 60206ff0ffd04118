import type { NextConfig } from "next";
import { loadEnv } from "./lib/env";

// Validate at build and at boot: a production deployment with a missing secret fails here,
// with one message that lists every problem, instead of at the first delivery.
loadEnv(process.env);

const nextConfig: NextConfig = {
  // The end-to-end tests run their own `next dev` beside a developer's `pnpm dev`: a separate
  // build folder keeps the two from fighting over .next's lock.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
