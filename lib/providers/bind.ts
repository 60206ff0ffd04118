import type { EmailProvider, GoogleOAuthProvider, NotifyProvider, PaymentsProvider, Providers, SlackProvider, StripeProvider, VoiceProvider } from "./types";

/**
 * The providers as a handler sees them: a call made without a signal gets the run's, so every
 * vendor request of a run stops when the run does, even where a job forgot to pass it; and no
 * request leaves once `fence` throws (the run can no longer prove it holds its lease), so a run
 * that lost the database never acts beside the run that took its job over.
 */
export function providersWithSignal(p: Providers, signal: AbortSignal, fence: () => void = () => {}): Providers {
  const pick = (s: AbortSignal | undefined) => {
    fence();
    return s ?? signal;
  };
  const once = <T>(make: () => T) => {
    let v: { value: T } | undefined;
    return () => (v ??= { value: make() }).value;
  };
  return {
    stripe: once((): StripeProvider => {
      const s = p.stripe();
      return {
        createTransfer: (t, sig) => s.createTransfer(t, pick(sig)),
        createPayout: (po, sig) => s.createPayout(po, pick(sig)),
        findTransfer: (q, sig) => s.findTransfer(q, pick(sig)),
        findPayout: (q, sig) => s.findPayout(q, pick(sig)),
      };
    }),
    email: once((): EmailProvider => {
      const e = p.email();
      return { send: (m, sig) => e.send(m, pick(sig)) };
    }),
    notify: once((): NotifyProvider => {
      const n = p.notify();
      return { trigger: (t, sig) => n.trigger(t, pick(sig)) };
    }),
    google: once((): GoogleOAuthProvider => {
      const g = p.google();
      return { refresh: (r, sig) => g.refresh(r, pick(sig)) };
    }),
    slack: once((): SlackProvider | undefined => {
      const sl = p.slack();
      return sl && { post: (m, sig) => sl.post(m, pick(sig)) };
    }),
    voice: once((): VoiceProvider => {
      const v = p.voice();
      return { call: (r, sig) => v.call(r, pick(sig)), findCall: (q, sig) => v.findCall(q, pick(sig)) };
    }),
    payments: once((): PaymentsProvider => {
      const pay = p.payments();
      return { fetchPayment: (id, sig) => pay.fetchPayment(id, pick(sig)) };
    }),
    modes: () => p.modes(),
  };
}
