import { appDeps } from "@/config/app";
import { openDeadLetters } from "@/lib/ops/overview";
import { Live } from "./live";

/** The dead letters that still need a person, for the navigation; a page that read them already passes them in. */
async function deadLetterCount(known: number | undefined): Promise<number | undefined> {
  if (known !== undefined) return known;
  try {
    return await openDeadLetters((await appDeps()).db, new Date());
  } catch {
    return undefined; // the page itself says what is wrong with the database
  }
}

/** The console's header: where to go, search, and sign-out (a POST with the CSRF token, like every action). */
export async function Shell({ csrf, q, children, deadLetters }: { csrf: string; q?: string; children: React.ReactNode; deadLetters?: number }) {
  const dead = await deadLetterCount(deadLetters);
  return (
    <>
      <header>
        <a href="/ops">Jobs</a>
        <a href="/ops/dead-letters" id="nav-dead-letters">
          Dead letters{dead ? <> <span className="count" title="dead letters of the last 7 days whose job has not succeeded since">{dead}</span></> : null}
        </a>
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
