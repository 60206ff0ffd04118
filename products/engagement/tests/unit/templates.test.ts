import { describe, expect, it } from "vitest";
import { founderEmail } from "../../emails/founder-email";
import { languageOf, practiceReminderEmail } from "../../emails/practice-reminder";

const URL = "https://jobs.example.test/api/engagement/unsubscribe?token=abc.def";

describe("engagement email templates", () => {
  it("writes the practice reminder in the learner's language, with their day and the unsubscribe link in text and HTML", () => {
    const de = practiceReminderEmail({ name: "Jörg <b>", language: "de-AT", timeZone: "Europe/Vienna", localDate: "2027-03-28", unsubscribeUrl: URL });
    expect(de.subject).toBe("Zeit für deine heutige Übung");
    expect(de.text).toBe(
      [
        "Hallo Jörg <b>,",
        "",
        "Du hast heute, Sonntag, 28. März, noch nicht geübt.",
        "",
        "Fünf Minuten jetzt halten deine Serie am Leben: Öffne die App und mach da weiter, wo du aufgehört hast.",
        "",
        `Du möchtest diese E-Mails nicht mehr? Abmelden: ${URL}`,
      ].join("\n"),
    );
    expect(de.html).toContain('<html lang="de">');
    expect(de.html).toContain("Hallo Jörg &lt;b&gt;,");
    expect(de.html).toContain(`<a href="${URL}" style="color:#59636e">Abmelden</a>`);
  });

  it("falls back to English for a language without copy, and greets without a name", () => {
    expect(languageOf("ja")).toBe("en");
    expect(languageOf(null)).toBe("en");
    const en = practiceReminderEmail({ name: null, language: "ja", timeZone: "Asia/Tokyo", localDate: "2027-01-05", unsubscribeUrl: URL });
    expect(en.text.split("\n").slice(0, 3)).toEqual(["Hi,", "", "You haven't practised yet today, Tuesday, January 5."]);
  });

  it("dates the founder email's sign-up day in the learner's zone", () => {
    // 23:30 UTC on 9 June is already 10 June in Auckland.
    const nz = founderEmail({ step: 1, name: "Mia", language: "en", timeZone: "Pacific/Auckland", signedUpAt: "2027-06-09T23:30:00Z", unsubscribeUrl: URL });
    expect(nz.subject).toBe("How was your first day?");
    expect(nz.text).toContain("You joined on June 10: welcome.");
    const es = founderEmail({ step: 3, name: "Luis", language: "es", timeZone: "America/Mexico_City", signedUpAt: "2027-06-09T23:30:00Z", unsubscribeUrl: URL });
    expect(es.subject).toBe("Tres días");
    expect(es.text).toContain("— el fundador");
    expect(es.text.endsWith(`¿No quieres recibir estos correos? Date de baja: ${URL}`)).toBe(true);
  });
});
