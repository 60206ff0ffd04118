import { registry } from "@/jobs";

export const dynamic = "force-static";

export default function Home() {
  return (
    <main style={{ fontFamily: "system-ui", maxWidth: 760, margin: "2rem auto", lineHeight: 1.5 }}>
      <h1>cronlayer</h1>
      <p>
        Health: <a href="/api/diagnostics">/api/diagnostics</a> (send <code>Authorization: Bearer $CRON_SECRET</code> for details).
      </p>
      <h2>Schedules</h2>
      <table>
        <thead>
          <tr><th align="left">job</th><th align="left">cron</th><th align="left">via</th><th align="left">priority</th></tr>
        </thead>
        <tbody>
          {registry.schedules.map((s) => (
            <tr key={s.job}><td>{s.job}</td><td><code>{s.cron}</code></td><td>{s.via}</td><td>{s.priority}</td></tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
