/** X's error bodies: RFC 7807 problems, in the shapes X's OpenAPI document names. */

export function problem(status: number, title: string, detail = title) {
  return { title, type: 'about:blank', status, detail };
}

export const UNAUTHORIZED = problem(401, 'Unauthorized');
export const FORBIDDEN = problem(403, 'Forbidden');
export const TOO_MANY = problem(429, 'Too Many Requests');

export const SERVER_ERRORS: Record<number, ReturnType<typeof problem>> = {
  500: problem(500, 'Internal Server Error'),
  503: problem(503, 'Service Unavailable'),
};

/** 400: one or more parameters were invalid; `parameters` names them with the values sent. */
export function invalidRequest(parameter: string, value: string, message: string) {
  return {
    errors: [{ parameters: { [parameter]: [value] }, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.twitter.com/2/problems/invalid-request',
  };
}

/** A missing post or user is reported inside a 200 answer, as X does. */
export function notFound(parameter: string, value: string, resourceType: 'user' | 'tweet') {
  const noun = resourceType === 'tweet' ? 'tweet' : 'user';
  return {
    value,
    detail: `Could not find ${noun} with ${parameter}: [${value}].`,
    title: 'Not Found Error',
    resource_type: resourceType,
    parameter,
    resource_id: value,
    type: 'https://api.twitter.com/2/problems/resource-not-found',
  };
}
