import { appRegistry, composeRegistry } from "@/config/app";
import { inWords } from "@/lib/cli/cron-words";
import { modeOf } from "@/lib/env";
import { appliesIn, parseCron } from "@/lib/jobs/schedules";

// Rendered per request: which schedules apply depends on the deployment's APP_ENV, not the build's.
export const dynamic = "force-dynamic";

const cell = { padding: "0.35rem 0.75rem 0.35rem 0", verticalAlign: "top", textAlign: "left" } as const;

export default function Home() {
  const mode = modeOf(process.env);
  let registry = composeRegistry([]);
  let problem: string | undefined;
  try {
    registry = appRegistry();
  } catch (err) {
    // PRODUCTS missing or wrong: the layer's own schedules, and what to set (no secret is named here).
    problem = (err as Error).message.split("\n")[1]?.replace(/^\s*-\s*/, "");
  }
  const schedules = registry.schedules.filter((s) => appliesIn(s, mode));
  return (
    <main style={{ fontFamily: "system-ui", maxWidth: 960, margin: "2rem auto", padding: "0 1rem", lineHeight: 1.5 }}>
      <h1>cronlayer</h1>
      <p>
        Health: <a href="/api/diagnostics">/api/diagnostics</a> (send <code>Authorization: Bearer $CRON_SECRET</code> for details).
      </p>
      <h2>Schedules</h2>
      {problem ? <p role="alert">Only the layer&apos;s own jobs are shown: {problem}</p> : null}
      <table style={{ borderCollapse: "collapse" }}>
        <thead>
          <tr>
            <th style={cell}>job</th>
            <th style={cell}>when</th>
            <th style={cell}>via</th>
            <th style={cell}>what it does</th>
          </tr>
        </thead>
        <tbody>
          {schedules.map((s) => {
            const { expression, timezone } = parseCron(s.cron, s.job);
            return (
              <tr key={s.job} data-job={s.job}>
                <td style={cell}>{s.job}</td>
                <td style={cell}>
                  {inWords(expression)} ({timezone}) <br />
                  <code>{s.cron}</code>
                </td>
                <td style={cell}>{s.via === "vercel" ? "Vercel Cron" : "QStash"}</td>
                <td style={cell}>{s.description ?? registry.get(s.job)?.description}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </main>
  );
}
