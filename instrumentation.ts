/**
 * Runs once when a server instance boots. A production server with an incomplete env still starts
 * (so diagnostics can answer), refuses every job request, and says why here, before any request.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { EnvError } = await import("./lib/env");
  const { loadAppEnv } = await import("./config/app");
  const { createLogger } = await import("./lib/log");
  try {
    const { env, products } = loadAppEnv(process.env);
    createLogger(env.logLevel).info("app.boot", { mode: env.mode, appUrl: env.appUrl, products: products.map((p) => p.name) });
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    console.error(`cronlayer refuses every job request until its configuration is fixed.\n${err.message}`);
  }
}
