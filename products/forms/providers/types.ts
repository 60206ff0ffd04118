/** The voice provider (Vapi) as the deadline calls see it. */

/** An outbound phone call placed by a voice assistant. */
export interface VoiceCallRequest {
  customer: { number: string; name?: string };
  /** Vapi has no idempotency key: callers claim `key` as an effect before calling; the outbox keys on it. */
  key: string;
}

export interface VoiceCall {
  id: string;
  status: string;
}

/** Finds a call already placed to `number` (by this assistant and phone number) created in [since, until]. */
export interface VoiceCallLookup {
  number: string;
  since: Date;
  until: Date;
  /** The key the call was placed under (the outbox matches on it; Vapi keeps no key). */
  key: string;
}

export interface VoiceProvider {
  call(r: VoiceCallRequest, signal?: AbortSignal): Promise<VoiceCall>;
  /** Vapi's own record: how a call whose answer was lost is told from one never placed. */
  findCall(q: VoiceCallLookup, signal?: AbortSignal): Promise<VoiceCall | undefined>;
}
