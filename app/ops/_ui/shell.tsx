/** The console's header: where to go, and sign-out (a POST with the CSRF token, like every action). */
export function Shell({ csrf, children }: { csrf: string; children: React.ReactNode }) {
  return (
    <>
      <header>
        <a href="/ops">Jobs</a>
        <a href="/ops/dead-letters">Dead letters</a>
        <form method="post" action="/ops/logout">
          <input type="hidden" name="csrf" value={csrf} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main>{children}</main>
    </>
  );
}
