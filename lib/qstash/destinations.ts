/**
 * Cloud QStash cannot reach this machine or a private network, and a schedule or message sent
 * there with such a destination fails every delivery, far from where the mistake was made.
 */
const PRIVATE_V4 = [/^127\./, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^169\.254\./, /^0\./];

export function isPrivateHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost") || h.endsWith(".local") || h.endsWith(".internal")) return true;
  if (h.includes(":")) return h === "::1" || h === "::" || /^(fc|fd)[0-9a-f]{0,2}:/.test(h) || h.startsWith("fe80:");
  return PRIVATE_V4.some((re) => re.test(h));
}

/** A QStash URL on this machine or a private network is a local stand-in, not the cloud service. */
export function isLocalQStash(qstashUrl: string): boolean {
  return isPrivateHost(new URL(qstashUrl).hostname);
}

/** Why a destination cannot be sent to this QStash, or undefined when it can. */
export function destinationProblem(qstashUrl: string, destination: string): string | undefined {
  if (isLocalQStash(qstashUrl)) return undefined;
  const url = new URL(destination);
  if (isPrivateHost(url.hostname)) {
    return `${destination} is on this machine or a private network, which cloud QStash (${qstashUrl}) cannot reach: set APP_URL to the public https URL of the deployment, or point QSTASH_URL at the local server (pnpm qstash:dev).`;
  }
  if (url.protocol !== "https:") return `${destination} is not https: cloud QStash must deliver to a public https URL (set APP_URL).`;
  return undefined;
}
