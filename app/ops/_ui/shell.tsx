import { appDeps } from "@/config/app";
import { openDeadLetters } from "@/lib/ops/overview";

/** The dead letters that still need a person, for the navigation; a page that read them already passes them in. */
async function deadLetterCount(known: number | undefined): Promise<number | undefined> {
  if (known !== undefined) return known;
  try {
    return await openDeadLetters((await appDeps()).db, new Date());
  } catch {
    return undefined; // the page itself says what is wrong with the database
  }
}

/** The console's header: where to go, and sign-out (a POST with the CSRF token, like every action). */
export async function Shell({ csrf, children, deadLetters }: { csrf: string; children: React.ReactNode; deadLetters?: number }) {
  const dead = await deadLetterCount(deadLetters);
  return (
    <>
      <header>
        <a href="/ops">Jobs</a>
        <a href="/ops/dead-letters" id="nav-dead-letters">
          Dead letters{dead ? <> <span className="count" title="dead letters of the last 7 days whose job has not succeeded since">{dead}</span></> : null}
        </a>
        <form method="post" action="/ops/logout">
          <input type="hidden" name="csrf" value={csrf} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main>{children}</main>
    </>
  );
}
