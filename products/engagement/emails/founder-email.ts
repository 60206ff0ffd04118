import { DateTime } from "luxon";
import type { Email } from "@/lib/emails/layout";
import { engagementEmail, languageOf, type Language } from "./practice-reminder";

type Step = 1 | 2 | 3;
interface Copy {
  hi: (name: string | null) => string;
  sign: string;
  steps: Record<Step, { subject: string; body: (joined: string) => string[] }>;
}

const COPY: Record<Language, Copy> = {
  en: {
    hi: (n) => (n ? `Hi ${n},` : "Hi,"),
    sign: "— the founder",
    steps: {
      1: { subject: "How was your first day?", body: (j) => [`You joined on ${j}: welcome.`, "I built this app so that a few minutes a day would be enough to learn a language. What made you start? Reply to this email: I read every answer."] },
      2: { subject: "A tip for day two", body: () => ["Short daily sessions beat long weekly ones. Pick a time that already exists in your day (coffee, the commute) and practise then."] },
      3: { subject: "Three days in", body: () => ["Three days is where a habit starts. If something in the app gets in your way, reply and tell me: I fix what learners report first."] },
    },
  },
  es: {
    hi: (n) => (n ? `Hola, ${n}:` : "Hola:"),
    sign: "— el fundador",
    steps: {
      1: { subject: "¿Qué tal tu primer día?", body: (j) => [`Te uniste el ${j}: bienvenido.`, "Creé esta app para que unos minutos al día bastaran para aprender un idioma. ¿Qué te hizo empezar? Responde a este correo: leo todas las respuestas."] },
      2: { subject: "Un consejo para el segundo día", body: () => ["Las sesiones cortas y diarias funcionan mejor que las largas y semanales. Elige un momento que ya exista en tu día (el café, el trayecto) y practica entonces."] },
      3: { subject: "Tres días", body: () => ["Con tres días empieza un hábito. Si algo de la app te estorba, respóndeme y cuéntamelo: arreglo primero lo que nos dicen los alumnos."] },
    },
  },
  fr: {
    hi: (n) => (n ? `Bonjour ${n},` : "Bonjour,"),
    sign: "— le fondateur",
    steps: {
      1: { subject: "Comment s'est passé votre premier jour ?", body: (j) => [`Vous nous avez rejoints le ${j} : bienvenue.`, "J'ai créé cette application pour que quelques minutes par jour suffisent à apprendre une langue. Qu'est-ce qui vous a décidé ? Répondez à cet e-mail : je lis chaque réponse."] },
      2: { subject: "Un conseil pour le deuxième jour", body: () => ["De courtes séances chaque jour valent mieux que de longues chaque semaine. Choisissez un moment qui existe déjà dans votre journée (le café, le trajet) et pratiquez à ce moment-là."] },
      3: { subject: "Trois jours déjà", body: () => ["C'est au bout de trois jours qu'une habitude commence. Si quelque chose dans l'application vous gêne, répondez-moi : je corrige d'abord ce que signalent les apprenants."] },
    },
  },
  de: {
    hi: (n) => (n ? `Hallo ${n},` : "Hallo,"),
    sign: "— der Gründer",
    steps: {
      1: { subject: "Wie war dein erster Tag?", body: (j) => [`Du bist am ${j} dazugekommen: willkommen.`, "Ich habe diese App gebaut, damit ein paar Minuten am Tag reichen, um eine Sprache zu lernen. Was hat dich anfangen lassen? Antworte auf diese E-Mail: Ich lese jede Antwort."] },
      2: { subject: "Ein Tipp für Tag zwei", body: () => ["Kurze tägliche Einheiten schlagen lange wöchentliche. Nimm einen Moment, den dein Tag schon hat (Kaffee, Arbeitsweg), und übe dann."] },
      3: { subject: "Drei Tage geschafft", body: () => ["Nach drei Tagen beginnt eine Gewohnheit. Wenn dich etwas in der App stört, antworte mir: Ich behebe zuerst, was Lernende melden."] },
    },
  },
};

export interface FounderEmail {
  step: Step;
  name: string | null;
  language: string;
  timeZone: string;
  signedUpAt: string | Date;
  unsubscribeUrl: string;
}

/** Day 1, 2 or 3 after sign-up, from the founder, in the learner's language; the sign-up day as their calendar has it. */
export function founderEmail(r: FounderEmail): Email {
  const lang = languageOf(r.language);
  const c = COPY[lang];
  const at = typeof r.signedUpAt === "string" ? new Date(r.signedUpAt) : r.signedUpAt;
  let d = DateTime.fromJSDate(at, { zone: r.timeZone });
  if (!d.isValid) d = DateTime.fromJSDate(at, { zone: "UTC" });
  const joined = d.setLocale(lang).toLocaleString({ day: "numeric", month: "long" });
  const s = c.steps[r.step];
  return engagementEmail(lang, s.subject, c.hi(r.name), [...s.body(joined), c.sign], r.unsubscribeUrl);
}
