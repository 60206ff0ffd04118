import { DateTime } from "luxon";
import { escapeHtml, htmlFrame, type Email } from "@/lib/emails/layout";

/** The languages engagement emails are written in; any other falls back to English. */
export const LANGUAGES = ["en", "es", "fr", "de"] as const;
export type Language = (typeof LANGUAGES)[number];

/** `es-MX` -> `es`; a language without copy -> `en`. */
export function languageOf(code: string | null | undefined): Language {
  const base = (code ?? "").slice(0, 2).toLowerCase();
  return (LANGUAGES as readonly string[]).includes(base) ? (base as Language) : "en";
}

const FOOTER: Record<Language, { text: string; link: string }> = {
  en: { text: "Don't want these emails? Unsubscribe:", link: "Unsubscribe" },
  es: { text: "¿No quieres recibir estos correos? Date de baja:", link: "Darme de baja" },
  fr: { text: "Vous ne voulez plus de ces e-mails ? Désabonnez-vous :", link: "Me désabonner" },
  de: { text: "Du möchtest diese E-Mails nicht mehr? Abmelden:", link: "Abmelden" },
};

/** The frame every engagement email shares: greeting, paragraphs, the unsubscribe link; in the learner's language. */
export function engagementEmail(lang: Language, subject: string, greeting: string, lines: string[], unsubscribeUrl: string): Email {
  const f = FOOTER[lang];
  const html = htmlFrame(subject, [
    escapeHtml(greeting),
    ...lines.map(escapeHtml),
    `<span style="font-size:12px;color:#59636e">${escapeHtml(f.text.replace(/:$/, "."))} <a href="${escapeHtml(unsubscribeUrl)}" style="color:#59636e">${escapeHtml(f.link)}</a></span>`,
  ]).replace('<html lang="en">', `<html lang="${lang}">`);
  return { subject, text: [greeting, "", ...lines.flatMap((l) => [l, ""]), `${f.text} ${unsubscribeUrl}`].join("\n"), html };
}

const COPY: Record<Language, { subject: string; hi: (name: string | null) => string; body: (day: string) => string[] }> = {
  en: {
    subject: "Time for today's practice",
    hi: (n) => (n ? `Hi ${n},` : "Hi,"),
    body: (day) => [`You haven't practised yet today, ${day}.`, "Five minutes now keeps your streak going: open the app and pick up where you left off."],
  },
  es: {
    subject: "Es hora de tu práctica de hoy",
    hi: (n) => (n ? `Hola, ${n}:` : "Hola:"),
    body: (day) => [`Todavía no has practicado hoy, ${day}.`, "Cinco minutos ahora mantienen tu racha: abre la app y sigue donde lo dejaste."],
  },
  fr: {
    subject: "C'est l'heure de votre pratique du jour",
    hi: (n) => (n ? `Bonjour ${n},` : "Bonjour,"),
    body: (day) => [`Vous n'avez pas encore pratiqué aujourd'hui, ${day}.`, "Cinq minutes maintenant et votre série continue : ouvrez l'application et reprenez là où vous vous êtes arrêté."],
  },
  de: {
    subject: "Zeit für deine heutige Übung",
    hi: (n) => (n ? `Hallo ${n},` : "Hallo,"),
    body: (day) => [`Du hast heute, ${day}, noch nicht geübt.`, "Fünf Minuten jetzt halten deine Serie am Leben: Öffne die App und mach da weiter, wo du aufgehört hast."],
  },
};

export interface PracticeReminder {
  name: string | null;
  language: string;
  timeZone: string;
  /** The learner's own date (yyyy-mm-dd) the reminder is for. */
  localDate: string;
  unsubscribeUrl: string;
}

/** The day, as the learner says it in their language ("Sunday, March 14", "domingo, 14 de marzo"). */
export function localDay(localDate: string, timeZone: string, lang: Language): string {
  let d = DateTime.fromISO(localDate, { zone: timeZone });
  if (!d.isValid) d = DateTime.fromISO(localDate, { zone: "UTC" });
  return d.setLocale(lang).toLocaleString({ weekday: "long", day: "numeric", month: "long" });
}

export function practiceReminderEmail(r: PracticeReminder): Email {
  const lang = languageOf(r.language);
  const c = COPY[lang];
  return engagementEmail(lang, c.subject, c.hi(r.name), c.body(localDay(r.localDate, r.timeZone, lang)), r.unsubscribeUrl);
}
