import type { NextConfig } from "next";
import { loadEnv } from "./lib/env";

// Validate at build and at boot: a production deployment with a missing secret fails here,
// with one message that lists every problem, instead of at the first delivery.
loadEnv(process.env);

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
