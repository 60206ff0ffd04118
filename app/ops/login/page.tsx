import { one, type SearchParams } from "@/app/ops/_ui/page";
import { safeNext } from "@/lib/ops/guard";

export const dynamic = "force-dynamic";

const ERRORS: Record<string, string> = {
  wrong: "Wrong password.",
  closed: "Sign-in is closed: set OPS_PASSWORD (or CRON_SECRET) on this deployment.",
  origin: "Refused: the form was sent from another site.",
  name: "Give your name (1 to 40 characters): every action is recorded with it.",
};

export default async function Login({ searchParams }: { searchParams: SearchParams }) {
  const q = await searchParams;
  const error = one(q.error);
  const message = error === "limited" ? `Too many wrong passwords: try again in ${one(q.retry) ?? "a few"} seconds.` : error ? (ERRORS[error] ?? "Sign-in failed.") : undefined;
  return (
    <main style={{ maxWidth: 360 }}>
      <h1>cronlayer ops</h1>
      {one(q.signed_out) && <p className="flash ok">Signed out.</p>}
      {message && <p className="flash bad" role="alert">{message}</p>}
      <form method="post" action="/ops/session">
        <input type="hidden" name="next" value={safeNext(one(q.next))} />
        <p>
          <label htmlFor="name">Your name (recorded with every action)</label>
          <br />
          <input id="name" name="name" type="text" autoComplete="username" required maxLength={40} defaultValue={one(q.name) ?? ""} style={{ width: "100%" }} />
        </p>
        <p>
          <label htmlFor="password">Password (OPS_PASSWORD)</label>
          <br />
          <input id="password" name="password" type="password" autoComplete="current-password" required style={{ width: "100%" }} />
        </p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
