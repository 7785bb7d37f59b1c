/**
 * Stripe's error envelope: `{ error: { type, code?, message, param?, doc_url? } }` with Stripe's statuses.
 * The SDK turns these into StripeInvalidRequestError / StripeAuthenticationError / StripeIdempotencyError
 * from `type` and the status, so both must match what Stripe sends.
 */

export type StripeErrorType = 'invalid_request_error' | 'idempotency_error' | 'api_error' | 'card_error';

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }

  toJSON() {
    return {
      error: {
        ...(this.code !== undefined && { code: this.code, doc_url: `https://stripe.com/docs/error-codes/${this.code.replaceAll('_', '-')}` }),
        message: this.message,
        ...(this.param !== undefined && { param: this.param }),
        type: this.type,
      },
    };
  }
}

export const resourceMissing = (resource: string, id: string, param = 'id') =>
  new StripeApiError(param === 'id' ? 404 : 400, 'invalid_request_error', `No such ${resource}: '${id}'`, 'resource_missing', param);

export const parameterMissing = (param: string) =>
  new StripeApiError(400, 'invalid_request_error', `Missing required param: ${param}.`, 'parameter_missing', param);

export const parameterUnknown = (param: string) =>
  new StripeApiError(
    400,
    'invalid_request_error',
    `Received unknown parameter: ${param}`,
    'parameter_unknown',
    param,
  );

export const parameterInvalid = (param: string, message: string, code = 'parameter_invalid_string') =>
  new StripeApiError(400, 'invalid_request_error', message, code, param);

export const invalidRequest = (message: string, param?: string) =>
  new StripeApiError(400, 'invalid_request_error', message, undefined, param);
