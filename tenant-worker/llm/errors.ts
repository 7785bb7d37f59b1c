/**
 * What can go wrong asking an LLM, as types the runtime's jobs branch on: wait and try later (rate
 * limited, with how long), stop and tell the user (auth: the key is wrong or revoked; not
 * configured), or count a failure (the provider's error, the network, a timeout, text that never
 * took the shape asked for).
 */

export class LlmError extends Error {
  override readonly name: string = 'LlmError';
}

/** 429, or Anthropic's 529 "overloaded": nothing should be sent before `retryAfterMs` has passed. */
export class LlmRateLimitedError extends LlmError {
  override readonly name = 'LlmRateLimitedError';
  constructor(
    readonly status: number,
    readonly retryAfterMs: number,
    message: string,
  ) {
    super(message);
  }
}

/** 401/403: the key is missing, wrong or revoked. Only the user can fix it. */
export class LlmAuthError extends LlmError {
  override readonly name = 'LlmAuthError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Any other error status, or an answer we could not read. */
export class LlmApiError extends LlmError {
  override readonly name = 'LlmApiError';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body?: unknown,
  ) {
    super(`The LLM answered ${status}: ${detail}`);
  }
}

/** No answer: connection refused or reset, DNS, or the call's timeout. */
export class LlmNetworkError extends LlmError {
  override readonly name = 'LlmNetworkError';
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No LLM is configured (and no sandbox default applies). */
export class LlmNotConfiguredError extends LlmError {
  override readonly name = 'LlmNotConfiguredError';
}

/** The model answered, but never in the shape asked for (a thread of 5–8 tweets) within the attempts allowed. */
export class LlmGenerationError extends LlmError {
  override readonly name = 'LlmGenerationError';
}
