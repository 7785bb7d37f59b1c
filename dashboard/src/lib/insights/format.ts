/** Numbers as the insight pages show them. Costs arrive in micro-dollars; scores are 0–100-ish floats. */
export function dollars(micros: number): string {
  const value = micros / 1_000_000;
  if (micros === 0) return '$0';
  if (micros < 100) return '< $0.0001';
  return value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

export function score(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

export function signed(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value > 0 ? `+${value.toLocaleString()}` : value.toLocaleString();
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? '–' : `${Math.round(ratio * 100)}%`;
}

/** An X post's address (the sandbox X serves the same paths). */
export function postUrl(username: string, tweetId: string): string {
  return `https://x.com/${username}/status/${tweetId}`;
}

/** "1 call", "3 calls". */
export function count(n: number, noun: string): string {
  return `${n.toLocaleString()} ${noun}${n === 1 ? '' : 's'}`;
}
