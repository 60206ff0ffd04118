import { Live } from "./live";

/** The console's header: where to go, search, and sign-out (a POST with the CSRF token, like every action). */
export function Shell({ csrf, q, children }: { csrf: string; q?: string; children: React.ReactNode }) {
  return (
    <>
      <header>
        <a href="/ops">Jobs</a>
        <a href="/ops/dead-letters">Dead letters</a>
        <form method="get" action="/ops/search" role="search" id="header-search">
          <input type="search" name="q" defaultValue={q} placeholder="run id, message id, effect key, subject" aria-label="Search runs, messages, effects" style={{ width: "18rem", maxWidth: "60vw" }} />
        </form>
        <form method="post" action="/ops/logout">
          <input type="hidden" name="csrf" value={csrf} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <Live />
      <main>{children}</main>
    </>
  );
}
